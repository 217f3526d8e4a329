import { ValidationError } from '../../errors';
import { ALL_TYPES, insertPause, listPauses, type PauseRow } from '../../repositories/publishing-control.repository';
import type { RegistryDeps } from '../registry-deps';

export interface PauseInput {
  /** One data type, or undefined for the whole service. */
  dataType?: string;
  actor: string;
  reason: string;
}

/**
 * Pauses publishing for the whole service or one data type: workers stop claiming (a copy already
 * running finishes), the pause shows in status and metrics, and PublishStalled stays quiet. Pausing
 * a paused scope changes nothing (changed false).
 */
export async function pausePublishing(deps: Pick<RegistryDeps, 'pool' | 'config'>, input: PauseInput): Promise<{ changed: boolean; pauses: PauseRow[] }> {
  if (input.dataType !== undefined && !deps.config.products.types.includes(input.dataType)) {
    throw new ValidationError('unknown_data_type', `data_type ${input.dataType} is not one of ${deps.config.products.types.join(', ')}`, 422);
  }
  const row = await insertPause(deps.pool, { scope: input.dataType ?? ALL_TYPES, actor: input.actor, reason: input.reason });
  return { changed: row !== undefined, pauses: await listPauses(deps.pool) };
}
