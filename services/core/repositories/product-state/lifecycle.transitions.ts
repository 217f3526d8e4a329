import type { Queryable } from '../../db/pool';
import type { ProductRow, ProductStatus } from '../product.types';
import { eventInsert } from './event-insert';
import type { ProductEvent } from './product-event';

/** Who asked for an operator transition and why; written into its event. */
export interface OperatorStamp {
  actor: string;
  reason: string | null;
  detail?: Record<string, unknown> | null;
}

/** A row after an operator transition, with what it was before. */
export type TransitionedRow = ProductRow & {
  previous_status: ProductStatus;
  previous_attempts: number;
  previous_error: string | null;
  previous_error_class: string | null;
};

/**
 * One operator transition: the guarded UPDATE of the row and its event (actor, reason, detail,
 * the previous attempts and error) in one statement. `guard` and `set` are SQL written in this file
 * only; values go in `args` as $5, $6, …. undefined when the row was not in the accepted state.
 */
async function operatorTransition(
  db: Queryable, event: ProductEvent, id: number, guard: string, set: string, args: unknown[], stamp: OperatorStamp,
): Promise<TransitionedRow | undefined> {
  const res = await db.query<TransitionedRow>(
    `WITH old AS (
       SELECT id, status, publish_attempts, publish_error, error_class FROM products WHERE id = $1 AND ${guard} FOR UPDATE
     ), u AS (
       UPDATE products p SET ${set}, updated_at = now()
         FROM old WHERE p.id = old.id
       RETURNING p.*, old.status AS previous_status, old.publish_attempts AS previous_attempts,
                 old.publish_error AS previous_error, old.error_class AS previous_error_class
     ), ev AS (${eventInsert(event, 'u', {
       attempt: 'previous_attempts', errorClass: 'previous_error_class', error: 'previous_error',
       actor: '$2::text', reason: '$3::text', detail: '$4::jsonb',
     })})
     SELECT * FROM u`,
    [id, stamp.actor, stamp.reason, stamp.detail ? JSON.stringify(stamp.detail) : null, ...args],
  );
  return res.rows[0];
}

const HELD = `(status = 'staging' AND held)`;
const WAITING = `(status = 'staging' AND NOT held)`;
const CLEAR_LEASE = `lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL`;

/** failed → discarded, `discarded`: given up, kept; removeSource leaves file work for a worker. */
export function recordDiscarded(db: Queryable, id: number, removeSource: boolean, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'discarded', id, `status = 'failed'`, `status = 'discarded', file_action_pending = $5::boolean, ${CLEAR_LEASE}`, [removeSource], stamp);
}

/** staging (held) → discarded, `held_discarded`: a held product given up. */
export function recordHeldDiscarded(db: Queryable, id: number, removeSource: boolean, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'held_discarded', id, HELD, `status = 'discarded', held = false, due_at = NULL, file_action_pending = $5::boolean`, [removeSource], stamp);
}

/** The fields amend may set; undefined leaves one unchanged. */
export interface AmendFields {
  expected_sha256?: string | null;
  metadata?: Record<string, unknown>;
}

const AMEND_SET = 'expected_sha256 = CASE WHEN $7::boolean THEN $5::text ELSE expected_sha256 END, metadata = COALESCE($6::jsonb, metadata)';
const amendArgs = (f: AmendFields) => [f.expected_sha256 ?? null, f.metadata ? JSON.stringify(f.metadata) : null, f.expected_sha256 !== undefined];

/** staging → staging, `amended`: expected_sha256 and/or metadata corrected; the stamp's detail keeps the old values. */
export function recordAmended(db: Queryable, id: number, f: AmendFields, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'amended', id, `status = 'staging'`, AMEND_SET, amendArgs(f), stamp);
}

/** failed → failed, `failed_amended`: the same correction on a failed product, before its retry. */
export function recordFailedAmended(db: Queryable, id: number, f: AmendFields, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'failed_amended', id, `status = 'failed'`, AMEND_SET, amendArgs(f), stamp);
}

/** staging → staging, `held`: a waiting product is held; no worker claims it until released. */
export function recordHeld(db: Queryable, id: number, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'held', id, WAITING, 'held = true', [], stamp);
}

/** staging → staging, `released`: a held product is due now. */
export function recordReleased(db: Queryable, id: number, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'released', id, HELD, 'held = false, due_at = now()', [], stamp);
}

/** published → retracted, `retracted`: withdrawn; a worker moves the files aside (file_action_pending). */
export function recordRetracted(db: Queryable, id: number, stamp: OperatorStamp): Promise<TransitionedRow | undefined> {
  return operatorTransition(db, 'retracted', id, `status = 'published'`, `status = 'retracted', file_action_pending = true, source_removal_pending = false`, [], stamp);
}

/** retracted → retracted, `retraction_moved`: the worker moved the files; where they lie now is recorded. */
export async function recordRetractionMoved(db: Queryable, id: number, retractedPath: string, worker: string): Promise<boolean> {
  const res = await db.query(
    `WITH u AS (
       UPDATE products SET retracted_path = $2, file_action_pending = false, updated_at = now()
        WHERE id = $1 AND status = 'retracted' AND file_action_pending
       RETURNING id, data_id, publish_attempts
     ) ${eventInsert('retraction_moved', 'u', { attempt: 'publish_attempts', worker: '$3::text', detail: "jsonb_build_object('retracted_path', $2::text)" })}`,
    [id, retractedPath, worker],
  );
  return (res.rowCount ?? 0) === 1;
}

/** discarded → discarded, `discarded_source_removed`: the worker removed a discarded product's staged source. */
export async function recordDiscardedSourceRemoved(db: Queryable, id: number, worker: string): Promise<boolean> {
  const res = await db.query(
    `WITH u AS (
       UPDATE products SET file_action_pending = false, updated_at = now()
        WHERE id = $1 AND status = 'discarded' AND file_action_pending
       RETURNING id, data_id, publish_attempts
     ) ${eventInsert('discarded_source_removed', 'u', { attempt: 'publish_attempts', worker: '$2::text' })}`,
    [id, worker],
  );
  return (res.rowCount ?? 0) === 1;
}
