import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import { COUNT_HELD, latestOutcomes, OLDEST_FAILED_AGE, OLDEST_WAITING_AGE } from './lifecycle-stats.repository';
import type { ProductStatus } from './product.types';
import { PAUSE_ORDER, type PauseRow } from './publishing-control.repository';
import { emptyCounts, failedAtLeast, STATUS_COUNTS } from './registry-stats.repository';

/** Every figure publish status shows, as read in one statement. */
export interface PublishFigures {
  counts: Record<ProductStatus, number>;
  /** Failed products at or past the attempt cap. */
  exceeded: number;
  outcomes: { products: number; succeeded: number };
  held: number;
  oldestWaitingAgeSeconds: number;
  oldestFailedAgeSeconds: number;
  paused: PauseRow[];
}

interface FiguresRow {
  counts: Partial<Record<ProductStatus, number>> | null;
  exceeded: number;
  outcomes: { products: number; succeeded: number };
  held: number;
  waiting_age: number | null;
  failed_age: number | null;
  paused: Array<Omit<PauseRow, 'paused_at'> & { paused_at: string }>;
}

/**
 * The publish-status figures in one statement: one round trip on one pool client instead of seven
 * queries holding seven clients at once, which under load starved every other request of the pool.
 * Each figure's SQL is the one its own repository function runs alone. Prepared: it takes longer to
 * plan than most requests take to run.
 */
const FIGURES_SQL = `
SELECT (SELECT json_object_agg(c.status, c.count) FROM (${STATUS_COUNTS}) c) AS counts,
       (${failedAtLeast('$1')}) AS exceeded,
       (SELECT row_to_json(o) FROM (${latestOutcomes('$2')}) o) AS outcomes,
       (${COUNT_HELD}) AS held,
       (${OLDEST_WAITING_AGE}) AS waiting_age,
       (${OLDEST_FAILED_AGE}) AS failed_age,
       (SELECT COALESCE(json_agg(x ORDER BY ${PAUSE_ORDER}), '[]'::json) FROM publishing_pauses x) AS paused`;

export async function readPublishFigures(db: Queryable, maxAttempts: number, since: Date): Promise<PublishFigures> {
  const row = (await db.query<FiguresRow>(prepared(FIGURES_SQL, [maxAttempts, since]))).rows[0]!;
  return {
    counts: { ...emptyCounts(), ...(row.counts ?? {}) },
    exceeded: row.exceeded,
    outcomes: row.outcomes,
    held: row.held,
    oldestWaitingAgeSeconds: Math.max(0, row.waiting_age ?? 0),
    oldestFailedAgeSeconds: Math.max(0, row.failed_age ?? 0),
    paused: row.paused.map((p) => ({ ...p, paused_at: new Date(p.paused_at) })),
  };
}
