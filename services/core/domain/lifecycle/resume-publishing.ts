import { ALL_TYPES, deletePause, listPauses, type PauseRow } from '../../repositories/publishing-control.repository';
import type { RegistryDeps } from '../registry-deps';

export interface ResumeInput {
  /** One data type, or undefined for the whole-service pause. */
  dataType?: string;
  actor: string;
  reason?: string | null;
}

/**
 * Lifts a pause. Jobs that met the pause wait in the delayed set; they are promoted at once so
 * publishing starts again without waiting for their delay. Resuming a scope not paused changes nothing.
 */
export async function resumePublishing(deps: Pick<RegistryDeps, 'pool' | 'queue' | 'logger'>, input: ResumeInput): Promise<{ changed: boolean; pauses: PauseRow[] }> {
  const row = await deletePause(deps.pool, { scope: input.dataType ?? ALL_TYPES, actor: input.actor, reason: input.reason ?? null });
  if (row) {
    await deps.queue.promoteJobs().catch((err: unknown) => deps.logger.warn('could not promote delayed jobs; they start when their delay ends', { err }));
  }
  return { changed: row !== undefined, pauses: await listPauses(deps.pool) };
}
