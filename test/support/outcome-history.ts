import type { Pool } from 'pg';
import type { Queryable } from '../../services/core/db/pool';
import { latestOutcomes } from '../../services/core/repositories/lifecycle-stats.repository';
import type { ProductStatus } from '../../services/core/repositories/product.types';
import { seedProduct } from './products';
import { seededRandom } from './seeded-random';

const HOUR = 3_600_000;

export interface Outcomes {
  products: number;
  succeeded: number;
}

/**
 * The success rate's definition as it was first written: each product's latest attempt-ending
 * event since `since` (by id), discarded products left out. It reads every event of the window;
 * tests hold the trigger-kept figure to it.
 */
export async function referenceOutcomes(db: Queryable, since: Date): Promise<Outcomes> {
  const res = await db.query<Outcomes>(
    `SELECT count(*)::bigint AS products, count(*) FILTER (WHERE l.to_status = 'published')::bigint AS succeeded
       FROM (SELECT DISTINCT ON (product_id) product_id, to_status
               FROM product_events
              WHERE created_at >= $1 AND ends_attempt
              ORDER BY product_id, id DESC) l
       JOIN products p ON p.id = l.product_id
      WHERE p.status::text <> 'discarded'`,
    [since],
  );
  return res.rows[0]!;
}

/** The figure as publish status reads it (latest_outcome_hours and the partial hour). */
export async function keptOutcomes(db: Queryable, since: Date): Promise<Outcomes> {
  return (await db.query<Outcomes>(latestOutcomes('$1'), [since])).rows[0]!;
}

/** Rows of latest_outcome_hours that differ from the sums recomputed from latest_outcomes: none when the triggers kept up. */
export async function outcomeHoursDrift(db: Queryable): Promise<unknown[]> {
  const res = await db.query(
    `SELECT hour, shard, k.products AS kept_products, r.products, k.successes AS kept_successes, r.successes
       FROM latest_outcome_hours k
       FULL JOIN (SELECT floor(extract(epoch FROM at) / 3600)::bigint AS hour, (product_id % 16)::smallint AS shard,
                         sum(products)::bigint AS products, sum(successes)::bigint AS successes
                    FROM latest_outcomes WHERE counted GROUP BY 1, 2
                  HAVING sum(products) <> 0 OR sum(successes) <> 0) r USING (hour, shard)
      WHERE (k.products, k.successes) IS DISTINCT FROM (r.products, r.successes)`,
  );
  return res.rows;
}

interface PlannedEvent {
  productId: number;
  dataId: string;
  event: string;
  from: ProductStatus;
  to: ProductStatus;
  endsAttempt: boolean;
  at: Date;
}

// Attempt endings as the state machine writes them, and events that end no attempt.
const ENDINGS: Array<Pick<PlannedEvent, 'event' | 'to'>> = [
  { event: 'published', to: 'published' },
  { event: 'published', to: 'published' },
  { event: 'retry_scheduled', to: 'staging' },
  { event: 'failed', to: 'failed' },
  { event: 'lease_reclaimed', to: 'staging' },
];
const NOT_ENDINGS: Array<Pick<PlannedEvent, 'event' | 'from' | 'to'>> = [
  { event: 'claimed', from: 'staging', to: 'publishing' },
  { event: 'lease_released', from: 'publishing', to: 'staging' },
];

/**
 * Writes a random publishing history ending at `now`: `products` products with up to six attempt
 * endings each over the last `hours` hours (some exactly on hour boundaries, some with an older
 * time than an event written before them, some at equal times), events that end nothing among
 * them, and some products discarded before, between or after their events (and a few taken out
 * of discarded again). `writers` connections write at once, one event or a batch per statement,
 * so one product's events may be written by several writers concurrently.
 */
export async function writeOutcomeHistory(
  pool: Pool, opts: { seed: number; now: Date; products: number; hours: number; writers: number },
): Promise<void> {
  const random = seededRandom(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const start = opts.now.getTime() - opts.hours * HOUR;
  const products = [];
  for (let i = 0; i < opts.products; i++) {
    const discardedFirst = random() < 0.08;
    products.push(await seedProduct(pool, { data_id: `h${opts.seed}-${i}`, status: discardedFirst ? 'discarded' : 'failed' }));
  }
  const perProduct: PlannedEvent[][] = products.map((p) => {
    const n = 1 + Math.floor(random() * 6);
    const times: number[] = [];
    for (let k = 0; k < n; k++) {
      const r = random();
      if (r < 0.1) times.push(Math.floor((start + random() * (opts.now.getTime() - start)) / HOUR) * HOUR);
      else if (r < 0.15 && times.length > 0) times.push(times[times.length - 1]!);
      else times.push(start + Math.floor(random() * (opts.now.getTime() - start)));
    }
    times.sort((a, b) => a - b);
    // Some out of order: written after an event with a later time.
    for (let k = 1; k < times.length; k++) if (random() < 0.15) [times[k - 1], times[k]] = [times[k]!, times[k - 1]!];
    const events: PlannedEvent[] = [];
    for (const t of times) {
      if (random() < 0.3) {
        const o = pick(NOT_ENDINGS);
        events.push({ productId: p.id, dataId: p.data_id, ...o, endsAttempt: false, at: new Date(t - 1000) });
      }
      const o = pick(ENDINGS);
      events.push({ productId: p.id, dataId: p.data_id, ...o, from: 'publishing', endsAttempt: true, at: new Date(t) });
    }
    return events;
  });

  // Interleave the products' event lists at random, each in its own order, into batches of 1-5.
  const queue: PlannedEvent[][] = [];
  const cursors = perProduct.map(() => 0);
  let left = perProduct.reduce((n, es) => n + es.length, 0);
  while (left > 0) {
    const size = random() < 0.7 ? 1 : 2 + Math.floor(random() * 4);
    const batch: PlannedEvent[] = [];
    while (batch.length < size && left > 0) {
      const i = Math.floor(random() * perProduct.length);
      if (cursors[i]! >= perProduct[i]!.length) continue;
      batch.push(perProduct[i]![cursors[i]!]!);
      cursors[i]! += 1;
      left -= 1;
    }
    queue.push(batch);
  }
  // Status changes to and from discarded, between the writes.
  const flips = new Map<number, number[]>();
  for (const p of products) {
    if (random() >= 0.1) continue;
    const at = Math.floor(random() * queue.length);
    flips.set(at, [...(flips.get(at) ?? []), p.id]);
  }

  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < queue.length) {
      const index = next++;
      const batch = queue[index]!;
      await pool.query(
        `INSERT INTO product_events (product_id, data_id, event, from_status, to_status, ends_attempt, created_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::product_status[], $5::product_status[], $6::boolean[], $7::timestamptz[])`,
        [batch.map((e) => e.productId), batch.map((e) => e.dataId), batch.map((e) => e.event), batch.map((e) => e.from),
          batch.map((e) => e.to), batch.map((e) => e.endsAttempt), batch.map((e) => e.at)],
      );
      for (const id of flips.get(index) ?? []) {
        await pool.query(
          `UPDATE products SET status = CASE WHEN status = 'discarded' THEN 'failed' ELSE 'discarded' END::product_status WHERE id = $1`, [id]);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.writers }, () => writer()));
}
