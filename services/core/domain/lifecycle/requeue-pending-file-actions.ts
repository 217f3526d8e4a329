import { enqueuePublish } from '../../jobs/publish-queue';
import { listPendingFileActions } from '../../repositories/lifecycle.repository';
import type { RequeueDeps } from '../publishing/requeue-due-products';

/** Enqueues retracted and discarded products whose file work is still pending (the api could not enqueue, or a worker died). */
export async function requeuePendingFileActions(deps: RequeueDeps, batch = 1000): Promise<number> {
  let n = 0;
  for (const r of await listPendingFileActions(deps.pool, batch)) if ((await enqueuePublish(deps.queue, r.data_id)) !== 'already_queued') n++;
  return n;
}
