import type { Queryable } from '../db/pool';

/** The scope of a pause that stops every data type. */
export const ALL_TYPES = '*';

/** One pause: the whole service ('*') or one data type. */
/** The order pauses are listed in: the whole-service pause first, then by data type. */
export const PAUSE_ORDER = `scope <> '*', scope`;

export interface PauseRow {
  scope: string;
  actor: string;
  reason: string;
  paused_at: Date;
}

/** Pauses a scope and records it, in one statement; a scope already paused keeps its first pause (undefined). */
export async function insertPause(db: Queryable, p: { scope: string; actor: string; reason: string }): Promise<PauseRow | undefined> {
  const res = await db.query<PauseRow>(
    `WITH ins AS (
       INSERT INTO publishing_pauses (scope, actor, reason) VALUES ($1, $2, $3)
       ON CONFLICT (scope) DO NOTHING RETURNING *
     ), ev AS (
       INSERT INTO publishing_control_events (action, scope, actor, reason) SELECT 'paused', scope, actor, reason FROM ins
     )
     SELECT * FROM ins`,
    [p.scope, p.actor, p.reason],
  );
  return res.rows[0];
}

/** Lifts the pause of a scope and records it, in one statement; undefined when it was not paused. */
export async function deletePause(db: Queryable, p: { scope: string; actor: string; reason: string | null }): Promise<PauseRow | undefined> {
  const res = await db.query<PauseRow>(
    `WITH del AS (DELETE FROM publishing_pauses WHERE scope = $1 RETURNING *),
          ev AS (INSERT INTO publishing_control_events (action, scope, actor, reason, detail)
                 SELECT 'resumed', scope, $2, $3, jsonb_build_object('paused_at', paused_at, 'paused_by', actor) FROM del)
     SELECT * FROM del`,
    [p.scope, p.actor, p.reason],
  );
  return res.rows[0];
}

/** Every pause in force, the whole-service one first. */
export async function listPauses(db: Queryable): Promise<PauseRow[]> {
  const res = await db.query<PauseRow>(`SELECT * FROM publishing_pauses ORDER BY ${PAUSE_ORDER}`);
  return res.rows;
}

/**
 * The SQL condition "a pause stops claims of a product of this data type" (`dataType` an SQL
 * expression): the whole service or that type is paused. The claim statement itself carries it,
 * so a pause committed before the claim starts is always seen.
 */
export function pausedCondition(dataType: string): string {
  return `EXISTS (SELECT 1 FROM publishing_pauses x WHERE x.scope = '${ALL_TYPES}' OR x.scope = ${dataType})`;
}

/** True when claims of this data_id's product must wait: the service or its data type is paused. */
export async function isPausedFor(db: Queryable, dataId: string): Promise<boolean> {
  const res = await db.query<{ paused: boolean }>(
    `SELECT ${pausedCondition('(SELECT data_type FROM products WHERE data_id = $1)')} AS paused`,
    [dataId],
  );
  return res.rows[0]?.paused ?? false;
}

/** A run-time setting's JSON value; undefined when unset (the environment's value applies). */
export async function readSetting<T>(db: Queryable, name: string): Promise<{ value: T; actor: string; updated_at: Date } | undefined> {
  const res = await db.query<{ value: T; actor: string; updated_at: Date }>('SELECT value, actor, updated_at FROM publishing_settings WHERE name = $1', [name]);
  return res.rows[0];
}

/** Sets (value) or clears (null) a run-time setting and records the change, in one statement. */
export async function writeSetting(db: Queryable, s: { name: string; value: unknown; actor: string; reason: string | null }): Promise<void> {
  if (s.value === null) {
    await db.query(
      `WITH del AS (DELETE FROM publishing_settings WHERE name = $1 RETURNING value)
       INSERT INTO publishing_control_events (action, scope, actor, reason, detail)
       VALUES ('setting_cleared', $1, $2, $3, jsonb_build_object('previous', (SELECT value FROM del)))`,
      [s.name, s.actor, s.reason],
    );
    return;
  }
  await db.query(
    `WITH old AS (SELECT value FROM publishing_settings WHERE name = $1),
          up AS (INSERT INTO publishing_settings (name, value, actor) VALUES ($1, $2::jsonb, $3)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, actor = EXCLUDED.actor, updated_at = now())
     INSERT INTO publishing_control_events (action, scope, actor, reason, detail)
     VALUES ('setting_changed', $1, $3, $4, jsonb_build_object('previous', (SELECT value FROM old), 'value', $2::jsonb))`,
    [s.name, JSON.stringify(s.value), s.actor, s.reason],
  );
}
