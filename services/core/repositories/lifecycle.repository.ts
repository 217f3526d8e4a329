import type { Queryable } from '../db/pool';
import type { ProductRow, ProductStatus } from './product.types';

/** Who asked for an operator transition and why; written into its event. */
export interface OperatorStamp {
  actor: string;
  reason: string | null;
  detail?: Record<string, unknown> | null;
}

/**
 * The states an operator transition starts from: a status, optionally narrowed to held (staging
 * with next_attempt_at NULL) or waiting (staging and due) products.
 */
export type FromState = ProductStatus | 'held' | 'waiting';

function stateSql(s: FromState): string {
  if (s === 'held') return `(status = 'staging' AND next_attempt_at IS NULL)`;
  if (s === 'waiting') return `(status = 'staging' AND next_attempt_at IS NOT NULL)`;
  return `status = '${s}'`;
}

export interface OperatorTransition {
  id: number;
  /** The row must be in one of these states, else nothing changes and undefined is returned. */
  from: readonly FromState[];
  /** The new status; undefined keeps the current one (amend, hold, release). */
  to?: ProductStatus;
  event: string;
  /** SQL assignments beyond status and updated_at, with $n placeholders numbered from 1 in `args`. */
  set?: string;
  args?: unknown[];
  stamp: OperatorStamp;
}

/**
 * The one writer of operator transitions: the guarded UPDATE of the row and its event (with actor,
 * reason and detail) in one statement, so a transition and its audit entry never part. undefined
 * when the row was not in an accepted state (the caller decides what that means); the returned row
 * carries `previous_status` and the previous attempts, error and error class.
 */
export async function applyOperatorTransition(db: Queryable, t: OperatorTransition): Promise<TransitionedRow | undefined> {
  const args = [...(t.args ?? [])];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const idArg = arg(t.id);
  const actorArg = arg(t.stamp.actor);
  const reasonArg = arg(t.stamp.reason);
  const detailArg = arg(t.stamp.detail ? JSON.stringify(t.stamp.detail) : null);
  const eventArg = arg(t.event);
  const assignments = [`updated_at = now()`];
  if (t.to) assignments.push(`status = ${arg(t.to)}::product_status`);
  if (t.set) assignments.push(t.set);
  const res = await db.query<TransitionedRow>(
    `WITH old AS (
       SELECT id, status, publish_attempts, publish_error, error_class FROM products
        WHERE id = ${idArg} AND (${t.from.map(stateSql).join(' OR ')})
        FOR UPDATE
     ), upd AS (
       UPDATE products p SET ${assignments.join(', ')}
         FROM old WHERE p.id = old.id
       RETURNING p.*, old.status AS previous_status, old.publish_attempts AS previous_attempts,
                 old.publish_error AS previous_error, old.error_class AS previous_error_class
     ), ev AS (
       INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, error_class, error, actor, reason, detail)
       SELECT id, data_id, ${eventArg}, previous_attempts, previous_status, status, previous_error_class, previous_error,
              ${actorArg}, ${reasonArg}, ${detailArg}::jsonb
         FROM upd
     )
     SELECT * FROM upd`,
    args,
  );
  return res.rows[0];
}

/** A row after an operator transition, with what it was before. */
export type TransitionedRow = ProductRow & {
  previous_status: ProductStatus;
  previous_attempts: number;
  previous_error: string | null;
  previous_error_class: string | null;
};

/**
 * The filter every bulk operator action takes (retry-all, bulk discard): which products, in which
 * order, how many. Times bound when the product entered its current state (updated_at).
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
  'id' | 'data_id' | 'data_type' | 'stage_path' | 'status' | 'publish_attempts' | 'publish_error' | 'error_class' | 'updated_at' | 'created_at' | 'next_attempt_at'
>;

/** The products a selection names, in its order; failed ones by the failed index, held ones by the staging index. */
export async function selectProducts(db: Queryable, s: ProductSelection): Promise<SelectedProductRow[]> {
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const where = [stateSql(s.state)];
  if (s.error_classes?.length) where.push(`error_class = ANY(${arg(s.error_classes)}::text[])`);
  if (s.exclude_error_classes?.length) where.push(`error_class IS DISTINCT FROM ALL(${arg(s.exclude_error_classes)}::text[])`);
  if (s.data_types?.length) where.push(`data_type = ANY(${arg(s.data_types)}::text[])`);
  if (s.since) where.push(`updated_at >= ${arg(s.since)}`);
  if (s.until) where.push(`updated_at < ${arg(s.until)}`);
  if (s.min_attempts !== undefined) where.push(`publish_attempts >= ${arg(s.min_attempts)}`);
  if (s.max_attempts !== undefined) where.push(`publish_attempts <= ${arg(s.max_attempts)}`);
  const dir = s.order === 'newest' ? 'DESC' : 'ASC';
  const res = await db.query<SelectedProductRow>(
    `SELECT id, data_id, data_type, stage_path, status, publish_attempts, publish_error, error_class, updated_at, created_at, next_attempt_at
       FROM products WHERE ${where.join(' AND ')}
      ORDER BY updated_at ${dir}, id ${dir} LIMIT ${arg(s.limit)}${s.lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    args,
  );
  return res.rows;
}

/** Failed products with their class and failure time, in a selection's order (the `failed` list). */
export async function listFailedDetailed(db: Queryable, s: Omit<ProductSelection, 'state'>): Promise<SelectedProductRow[]> {
  return selectProducts(db, { ...s, state: 'failed' });
}

/** A worker finished moving a retracted product aside: records where it lies and clears the pending marker, with its event. */
export async function recordRetractionMoved(db: Queryable, id: number, retractedPath: string, worker: string): Promise<boolean> {
  const res = await db.query(
    `WITH upd AS (
       UPDATE products SET retracted_path = $2, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'retracted' AND next_attempt_at IS NOT NULL
       RETURNING id, data_id, publish_attempts
     )
     INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, worker, detail)
     SELECT id, data_id, 'retraction_moved', publish_attempts, 'retracted', 'retracted', $3, jsonb_build_object('retracted_path', $2::text) FROM upd`,
    [id, retractedPath, worker],
  );
  return (res.rowCount ?? 0) === 1;
}

/** A worker removed a discarded product's staged source: clears the pending marker, with its event. */
export async function recordDiscardedSourceRemoved(db: Queryable, id: number, worker: string): Promise<boolean> {
  const res = await db.query(
    `WITH upd AS (
       UPDATE products SET next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'discarded' AND next_attempt_at IS NOT NULL
       RETURNING id, data_id, publish_attempts
     )
     INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, worker)
     SELECT id, data_id, 'source_removed', publish_attempts, 'discarded', 'discarded', $2 FROM upd`,
    [id, worker],
  );
  return (res.rowCount ?? 0) === 1;
}

/** Retracted or discarded products whose file work (move aside, source removal) is still pending. */
export async function listPendingFileActions(db: Queryable, limit: number): Promise<{ data_id: string }[]> {
  const res = await db.query<{ data_id: string }>(
    // Written against products_file_action_idx, whose predicate names only the original states.
    `SELECT data_id FROM products
      WHERE status NOT IN ('staging', 'publishing', 'published', 'failed') AND next_attempt_at IS NOT NULL
      ORDER BY next_attempt_at LIMIT $1`,
    [limit],
  );
  return res.rows;
}
