import { ValidationError } from '../../errors';
import { recordAmended, recordFailedAmended } from '../../repositories/product-state';
import type { ProductStatus } from '../../repositories/product.types';
import type { RegistryDeps } from '../registry-deps';
import { changedMeanwhile, describeState, refusedInState, runOperatorVerb, type OperatorInput } from './operator-verb';

export interface AmendInput extends OperatorInput {
  /** The corrected digest (lower-case hex), or null to stop checking one. Omitted: unchanged. */
  expectedSha256?: string | null;
  /** The whole new metadata object. Omitted: unchanged. */
  metadata?: Record<string, unknown>;
}

export interface AmendResult {
  data_id: string;
  status: ProductStatus;
  changed: string[];
}

/**
 * Corrects what an operator may correct before a retry — expected_sha256 and metadata — on a
 * staging (held or waiting) or failed product; the status stays. The event `amended` keeps the old
 * and new values. A publishing, published, discarded or retracted product is 409.
 */
export async function amendProduct(deps: RegistryDeps, input: AmendInput): Promise<AmendResult> {
  const fields: string[] = [];
  if (input.expectedSha256 !== undefined) fields.push('expected_sha256');
  if (input.metadata !== undefined) fields.push('metadata');
  if (fields.length === 0) throw new ValidationError('validation_error', 'nothing to amend: give expected_sha256 and/or metadata');
  const { after } = await runOperatorVerb(deps, input.dataId, async (tx, row) => {
    if (row.status !== 'staging' && row.status !== 'failed') throw refusedInState(row, 'amend', 'staging, held or failed');
    const old: Record<string, unknown> = {};
    const now: Record<string, unknown> = {};
    if (input.expectedSha256 !== undefined) {
      old.expected_sha256 = row.expected_sha256;
      now.expected_sha256 = input.expectedSha256;
    }
    if (input.metadata !== undefined) {
      old.metadata = row.metadata;
      now.metadata = input.metadata;
    }
    const fields = { expected_sha256: input.expectedSha256, metadata: input.metadata };
    const stamp = { actor: input.actor, reason: input.reason ?? null, detail: { old, new: now, state: describeState(row) } };
    const done = row.status === 'failed' ? await recordFailedAmended(tx, row.id, fields, stamp) : await recordAmended(tx, row.id, fields, stamp);
    if (!done) throw changedMeanwhile(input.dataId);
    return done;
  });
  return { data_id: input.dataId, status: after!.status, changed: fields };
}
