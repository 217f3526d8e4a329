import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import type { ProductRow } from './product.types';

/**
 * The filter every bulk operator action takes (retry-all, bulk discard, the failed list): which
 * products, in which order, how many. Times bound when the product entered its current state (updated_at).
 */
export interface ProductSelection {
  state: 'failed' | 'held';
  error_classes?: readonly string[];
  exclude_error_classes?: readonly string[];
  data_types?: readonly string[];
  since?: Date;
  until?: Date;
  min_attempts?: number;
  max_attempts?: number;
  order: 'oldest' | 'newest';
  limit: number;
  /** Lock the picked rows (FOR UPDATE SKIP LOCKED): concurrent bulk calls then split the set instead of racing for it. */
  lock?: boolean;
}

/** A product a bulk selection picked. */
export type SelectedProductRow = Pick<
  ProductRow,
  'id' | 'data_id' | 'data_type' | 'stage_path' | 'status' | 'publish_attempts' | 'publish_error' | 'error_class' | 'updated_at' | 'created_at' | 'held'
>;

/** The products a selection names, in its order (failed ones by products_failed_idx on updated_at). */
export async function selectProducts(db: Queryable, s: ProductSelection): Promise<SelectedProductRow[]> {
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const where = [s.state === 'held' ? `status = 'staging' AND held` : `status = 'failed'`];
  if (s.error_classes?.length) where.push(`error_class = ANY(${arg(s.error_classes)}::text[])`);
  if (s.exclude_error_classes?.length) where.push(`(error_class IS NULL OR NOT error_class = ANY(${arg(s.exclude_error_classes)}::text[]))`);
  if (s.data_types?.length) where.push(`data_type = ANY(${arg(s.data_types)}::text[])`);
  if (s.since) where.push(`updated_at >= ${arg(s.since)}`);
  if (s.until) where.push(`updated_at < ${arg(s.until)}`);
  if (s.min_attempts !== undefined) where.push(`publish_attempts >= ${arg(s.min_attempts)}`);
  if (s.max_attempts !== undefined) where.push(`publish_attempts <= ${arg(s.max_attempts)}`);
  const dir = s.order === 'newest' ? 'DESC' : 'ASC';
  // Prepared: the failed list is a hot read; each combination of filters is one statement.
  const res = await db.query<SelectedProductRow>(prepared(
    `SELECT id, data_id, data_type, stage_path, status, publish_attempts, publish_error, error_class, updated_at, created_at, held
       FROM products WHERE ${where.join(' AND ')}
      ORDER BY updated_at ${dir}, id ${dir} LIMIT ${arg(s.limit)}${s.lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    args,
  ));
  return res.rows;
}

/** Failed products with their class and failure time, in a selection's order (the `failed` list). */
export async function listFailedDetailed(db: Queryable, s: Omit<ProductSelection, 'state'>): Promise<SelectedProductRow[]> {
  return selectProducts(db, { ...s, state: 'failed' });
}

/** Retracted or discarded products whose file work (move aside, source removal) is still pending (products_file_action_idx). */
export async function listPendingFileActions(db: Queryable, limit: number): Promise<{ data_id: string }[]> {
  const res = await db.query<{ data_id: string }>(
    `SELECT data_id FROM products WHERE file_action_pending ORDER BY updated_at LIMIT $1`,
    [limit],
  );
  return res.rows;
}
