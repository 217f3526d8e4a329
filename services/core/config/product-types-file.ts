import fs from 'node:fs';
import YAML from 'yaml';
import { metadataValidator } from '../product-types/metadata-validator';
import { OPAQUE_TYPE, productTypesFileSchema, type ProductTypeDefinition } from '../product-types/product-type.schema';

/** The allowed types and their definitions, or every problem found on the way. */
export interface ProductTypesResult {
  types: string[];
  definitions: Record<string, ProductTypeDefinition>;
}

/** Cross-field rules zod cannot express per field: patterns compile, schemas compile, references resolve. */
function crossCheck(defs: Record<string, ProductTypeDefinition>, problems: string[]): void {
  for (const [name, t] of Object.entries(defs)) {
    const at = `types.${name}`;
    if (t.name_pattern !== undefined) {
      try {
        new RegExp(t.name_pattern, 'u');
      } catch (err) {
        problems.push(`${at}.name_pattern: not a valid regular expression (${(err as Error).message})`);
      }
    }
    if (t.min_bytes !== undefined && t.max_bytes !== undefined && t.min_bytes > t.max_bytes) {
      problems.push(`${at}: min_bytes is larger than max_bytes`);
    }
    if (t.metadata_schema) {
      try {
        metadataValidator(t.metadata_schema);
      } catch (err) {
        problems.push(`${at}.metadata_schema: ${(err as Error).message}`);
      }
    }
    if (t.validators.fits && t.kind !== 'file') problems.push(`${at}.validators.fits: needs kind: file`);
    if (t.validators.casa_table && t.kind !== 'directory') problems.push(`${at}.validators.casa_table: needs kind: directory`);
    if (t.lineage) {
      if (t.lineage.min_inputs > t.lineage.max_inputs) problems.push(`${at}.lineage: min_inputs is larger than max_inputs`);
      for (const input of t.lineage.input_types ?? []) {
        if (!defs[input]) problems.push(`${at}.lineage.input_types: ${input} is not a defined type`);
      }
    }
  }
}

/**
 * The product types: without a file, PRODUCT_TYPES names opaque types (today's behaviour: any
 * kind, any bytes); with PRODUCT_TYPES_CONFIG, the file defines them, and an explicitly set
 * PRODUCT_TYPES may only narrow that set. Every problem is pushed, prefixed with the variable.
 */
export function loadProductTypes(
  file: string | undefined,
  listed: readonly string[],
  listedExplicitly: boolean,
  problems: string[],
): ProductTypesResult {
  const opaque = () => ({ types: [...listed], definitions: Object.fromEntries(listed.map((t) => [t, OPAQUE_TYPE])) });
  if (!file) return opaque();
  const before = problems.length;
  const say = (msg: string) => problems.push(`PRODUCT_TYPES_CONFIG: ${msg}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    say(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return opaque();
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    say(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return opaque();
  }
  const parsed = productTypesFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) say(`${issue.path.join('.') || '(file)'}: ${issue.message}`);
    return opaque();
  }
  const inner: string[] = [];
  crossCheck(parsed.data.types, inner);
  for (const p of inner) say(p);
  const defined = Object.keys(parsed.data.types);
  let types = defined;
  if (listedExplicitly) {
    for (const t of listed) if (!parsed.data.types[t]) problems.push(`PRODUCT_TYPES: ${t} is not defined in the PRODUCT_TYPES_CONFIG file`);
    types = listed.filter((t) => parsed.data.types[t]);
  }
  if (problems.length > before) return opaque();
  return { types, definitions: Object.fromEntries(types.map((t) => [t, parsed.data.types[t]!])) };
}
