import { readSetting } from '../../repositories/publishing-control.repository';
import type { Queryable } from '../../db/pool';

/** The settings row that overrides PUBLISH_MAX_BYTES_PER_SEC at run time. */
export const BANDWIDTH_SETTING = 'max_bytes_per_sec';

export interface BandwidthLimit {
  /** Bytes per second shared by all copies of one worker process; 0 = unlimited. */
  max_bytes_per_sec: number;
  source: 'setting' | 'environment';
  updated_by: string | null;
  updated_at: Date | null;
}

/** The limit in force: the settings row when set, else the worker's PUBLISH_MAX_BYTES_PER_SEC. */
export async function getBandwidthLimit(db: Queryable, envDefault: number): Promise<BandwidthLimit> {
  const row = await readSetting<number>(db, BANDWIDTH_SETTING);
  if (row === undefined) return { max_bytes_per_sec: envDefault, source: 'environment', updated_by: null, updated_at: null };
  return { max_bytes_per_sec: Number(row.value), source: 'setting', updated_by: row.actor, updated_at: row.updated_at };
}

