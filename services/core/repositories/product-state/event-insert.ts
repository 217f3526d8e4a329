import { TRANSITIONS, type ProductEvent } from './product-event';

/** SQL expressions for the parts of an event that vary; each defaults to NULL. */
export interface EventValues {
  attempt: string;
  errorClass?: string;
  error?: string;
  bytes?: string;
  durationMs?: string;
  worker?: string;
  /** Operator transitions: who asked (token name), why, and what changed (jsonb). */
  actor?: string;
  reason?: string;
  detail?: string;
}

/**
 * The one statement that appends to the event log: the event named `event`, with the statuses and the
 * attempt-ending flag its transition declares, one row per row of `source` (a CTE of changed
 * products exposing id and data_id). Only the transition functions of this folder call it, as
 * part of the statement that changes the row, so a row and its event are always written together.
 */
export function eventInsert(event: ProductEvent, source: string, v: EventValues): string {
  const t = TRANSITIONS[event];
  // Every literal below comes from the compile-time table, never from input.
  const from = t.from === null ? 'NULL' : `'${t.from}'`;
  return `INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, ends_attempt,
                                       error_class, error, bytes, duration_ms, worker, actor, reason, detail)
          SELECT id, data_id, '${event}', ${v.attempt}, ${from}::product_status, '${t.to}'::product_status, ${t.endsAttempt},
                 ${v.errorClass ?? 'NULL'}, ${v.error ?? 'NULL'}, ${v.bytes ?? 'NULL'}, ${v.durationMs ?? 'NULL'}, ${v.worker ?? 'NULL'},
                 ${v.actor ?? 'NULL'}, ${v.reason ?? 'NULL'}, ${v.detail ?? 'NULL'}
            FROM ${source}`;
}

/** The one expiry rule: a lease is expired once its expiry is at or before `at` (an SQL expression). */
export function leaseExpired(at: string): string {
  return `(lease_token IS NOT NULL AND lease_expires_at <= ${at})`;
}
