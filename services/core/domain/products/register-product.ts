import path from 'node:path';
import type { PoolClient } from 'pg';
import type { Queryable } from '../../db/pool';
import { ConflictError, ValidationError } from '../../errors';
import { resolveStagePath, type StagedSource } from '../../publish/stage-path';
import { findDestinationOverlap, findProductByDataId, lockDestinations } from '../../repositories/product.repository';
import { recordRegistered } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import { OPAQUE_TYPE, type ProductTypeDefinition } from '../../product-types/product-type.schema';
import { insertProductInputs, listInputDataIds } from '../../repositories/lineage.repository';
import type { RegistryDeps } from '../registry-deps';
import { checkLineage } from './check-lineage';
import { checkProductType } from './check-product-type';
import { checkSupersedes, supersedesItself } from './check-supersedes';
import type { DataIdLookup } from './data-id-lookup';
import type { RegistrationWriter } from './registration-writer';

/** What a producer registers. */
export interface RegisterProductInput {
  data_id: string;
  data_type: string;
  stage_path: string;
  expected_sha256?: string | null;
  metadata?: Record<string, unknown>;
  auto_publish?: boolean;
  /** data_ids of the registered products this one was made from (lineage). */
  derived_from?: string[];
  /** data_id of the product this corrected one replaces (checkSupersedes says which it may name). */
  supersedes?: string;
}

export interface RegisterProductResult {
  product: ProductRow;
  /** False when the identical product was registered before and is returned unchanged. */
  created: boolean;
}


/** JSON with object keys sorted, so equal metadata compares equal whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fields of an existing product that differ from a new registration of the same data_id. */
async function differences(deps: Pick<RegistryDeps, 'config'>, db: Queryable, existing: ProductRow, input: RegisterProductInput): Promise<string[]> {
  const diff: string[] = [];
  if (input.derived_from !== undefined) {
    const stored = await listInputDataIds(db, existing.id);
    if (canonical(stored) !== canonical([...new Set(input.derived_from)].sort())) diff.push('derived_from');
  }
  if (input.supersedes !== undefined && (existing.supersedes ?? undefined) !== input.supersedes) diff.push('supersedes');
  if (existing.data_type !== input.data_type) diff.push('data_type');
  if ((existing.expected_sha256 ?? null) !== (input.expected_sha256 ?? null)) diff.push('expected_sha256');
  if (canonical(existing.metadata ?? {}) !== canonical(input.metadata ?? {})) diff.push('metadata');
  const root = deps.config.paths.stageRoot;
  const lexical = path.relative(root, path.resolve(root, input.stage_path)).split(path.sep).join('/');
  if (lexical !== existing.stage_path) {
    // The source may have moved on (published with PUBLISH_MODE=move): only resolve when the text differs.
    const resolved = await resolveStagePath(root, input.stage_path).then((s) => s.relativePath, () => undefined);
    if (resolved !== existing.stage_path) diff.push('stage_path');
  }
  return diff;
}

/**
 * A registration of a data_id already taken: the existing product (identical) or 409. `db` reads
 * the existing row's lineage: the transaction when the row may be its own uncommitted work (a batch).
 */
export async function sameOrConflict(deps: Pick<RegistryDeps, 'config'>, db: Queryable, existing: ProductRow, input: RegisterProductInput): Promise<RegisterProductResult> {
  const diff = await differences(deps, db, existing, input);
  if (diff.length > 0) {
    throw new ConflictError(
      'data_id_conflict',
      `data_id ${input.data_id} is already registered with a different ${diff.join(', ')}: choose a new data_id or register the identical product`,
      { fields: diff },
    );
  }
  return { product: existing, created: false };
}

/** The 409 for a destination equal to, containing or inside `other`'s. */
export function destinationConflict(dest: string, other: Pick<ProductRow, 'data_id' | 'destination_path'>): ConflictError {
  const how = other.destination_path === dest ? 'already publishes to' : 'would nest with';
  return new ConflictError(
    'destination_conflict',
    `product ${other.data_id} ${how} ${other.destination_path}: two products cannot publish to the same or nested paths; move the source`,
    { data_id: other.data_id, destination_path: other.destination_path },
  );
}

/** A registration that passed every check made outside the transaction, or one already answered. */
export type PreparedRegistration =
  | { outcome: 'answered'; result: RegisterProductResult }
  | { outcome: 'ready'; input: RegisterProductInput; source: StagedSource; def: ProductTypeDefinition; autoPublish: boolean };

/** A registration that passed every check made outside the transaction: what is written. */
export type ReadyRegistration = Extract<PreparedRegistration, { outcome: 'ready' }>;

/**
 * The refusals of a registration made before an existing product of its data_id is looked at, so
 * that they never read as a data_id conflict: an unknown type, a product superseding itself.
 */
export function checkRegistrationInput(deps: Pick<RegistryDeps, 'config'>, input: RegisterProductInput): void {
  const types = deps.config.products.types;
  if (!types.includes(input.data_type)) {
    throw new ValidationError('unknown_data_type', `data_type ${input.data_type} is not allowed: use one of ${types.join(', ')}`, 422, {
      allowed: [...types],
    });
  }
  if (input.supersedes === input.data_id) throw supersedesItself(input.data_id);
}

/**
 * The checks of a registration made before its transaction: the type, an existing product of the
 * same data_id (identical: answered; different: 409), the stage path resolved inside STAGE_ROOT,
 * and the type's rules on the source. `existing` is the row already looked up for this data_id
 * (a batch looks all of them up in one query). Slow file-system work (a directory walk) happens
 * here, outside the transaction and its locks.
 */
export async function prepareRegistration(
  deps: Pick<RegistryDeps, 'config' | 'pool'>, input: RegisterProductInput, existing: ProductRow | undefined,
): Promise<PreparedRegistration> {
  checkRegistrationInput(deps, input);
  return prepareCheckedRegistration(deps, input, existing);
}

/** prepareRegistration after checkRegistrationInput has passed (a batch runs that check first, to tell its refusals apart). */
export async function prepareCheckedRegistration(
  deps: Pick<RegistryDeps, 'config' | 'pool'>, input: RegisterProductInput, existing: ProductRow | undefined,
): Promise<PreparedRegistration> {
  if (existing) return { outcome: 'answered', result: await sameOrConflict(deps, deps.pool, existing, input) };
  const source = await resolveStagePath(deps.config.paths.stageRoot, input.stage_path).catch(async (err: unknown) => {
    // A concurrent registration of the same product may have won meanwhile, and the worker may
    // already have published it and removed its source (move mode): that is the identical product.
    const raced = err instanceof ValidationError ? await findProductByDataId(deps.pool, input.data_id) : undefined;
    if (raced) return raced;
    throw err;
  });
  if ('data_id' in source) return { outcome: 'answered', result: await sameOrConflict(deps, deps.pool, source, input) };
  const def = deps.config.products.definitions[input.data_type] ?? OPAQUE_TYPE;
  checkProductType(def, input.data_type, input.metadata ?? {}, source);
  return { outcome: 'ready', input, source, def, autoPublish: input.auto_publish !== false };
}

/**
 * The writing half of a registration, inside the caller's transaction: the destination and
 * data_id locks, the lineage check, then the row and its `registered` event in one statement.
 * Every refusal here is thrown before anything is written, so a batch may answer it for one
 * product and go on with the others in the same transaction.
 */
export async function insertRegistration(
  deps: Pick<RegistryDeps, 'config' | 'pool'>, tx: PoolClient, p: ReadyRegistration,
): Promise<RegisterProductResult> {
  const { input, source, def } = p;
  await lockDestinations(tx, [{ dest: source.relativePath, dataId: input.data_id }]);
  const inputIds = await checkLineage(tx, def, input.data_id, input.derived_from ?? []);
  if (input.supersedes !== undefined) await checkSupersedes(tx, input.data_id, input.supersedes);
  // The usual case in one statement; only when something is in the way find out what.
  const product = await recordRegistered(tx, {
    data_id: input.data_id,
    data_type: input.data_type,
    stage_path: source.relativePath,
    destination_path: source.relativePath,
    kind: source.kind,
    size_bytes: source.sizeBytes,
    file_count: source.fileCount,
    expected_sha256: input.expected_sha256 ?? null,
    metadata: input.metadata ?? {},
    due: p.autoPublish,
    supersedes: input.supersedes ?? null,
  });
  if (!product) {
    const raced = await findProductByDataId(tx, input.data_id);
    if (raced) return sameOrConflict(deps, tx, raced, input);
    const overlap = await findDestinationOverlap(tx, source.relativePath);
    if (overlap) throw destinationConflict(source.relativePath, overlap);
    // The locks make this impossible short of a writer that bypasses this function.
    throw new ConflictError('destination_conflict', `data_id ${input.data_id} or its destination was taken concurrently: retry`);
  }
  await insertProductInputs(tx, product.id, inputIds);
  return { product, created: true };
}

/** What the single registrations of one api process share: their look-ups and their writes go together. */
export interface SingleRegistrations {
  lookup: DataIdLookup;
  writer: RegistrationWriter;
}

/**
 * Registers a staged product after every safeguard passed, in one transaction that writes the
 * row and its `registered` event, then enqueues it unless auto_publish is false. Registering
 * the identical product again returns the existing row (created false) and writes nothing. The
 * look-up of an existing product and the transaction are `shared`'s, made together with those of
 * the single registrations that arrived meanwhile.
 */
export async function registerProduct(deps: RegistryDeps, shared: SingleRegistrations, input: RegisterProductInput): Promise<RegisterProductResult> {
  const prepared = await prepareRegistration(deps, input, await shared.lookup.find(input.data_id));
  if (prepared.outcome === 'answered') return prepared.result;
  return shared.writer.write(prepared);
}
