import type { Queryable } from '../../db/pool';
import { writeSetting } from '../../repositories/publishing-control.repository';
import { BANDWIDTH_SETTING, getBandwidthLimit, type BandwidthLimit } from './get-bandwidth-limit';

/**
 * Sets the limit for every worker (null: back to each worker's PUBLISH_MAX_BYTES_PER_SEC). Workers
 * re-read it every few seconds and apply it to the copies already running.
 */
export async function setBandwidthLimit(
  db: Queryable,
  input: { maxBytesPerSec: number | null; actor: string; reason?: string | null },
  envDefault: number,
): Promise<BandwidthLimit> {
  await writeSetting(db, { name: BANDWIDTH_SETTING, value: input.maxBytesPerSec, actor: input.actor, reason: input.reason ?? null });
  return getBandwidthLimit(db, envDefault);
}
