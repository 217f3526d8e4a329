-- Up Migration
-- Operator verbs over the whole product lifecycle: discard (failed or held products), retract
-- (published products moved aside, never deleted), pause and resume, and a bandwidth limit that
-- changes at run time. New enum values are only added here, never used, because every migration
-- of a run shares one transaction and PostgreSQL refuses a value added in the same transaction.
ALTER TYPE product_status ADD VALUE IF NOT EXISTS 'discarded';
ALTER TYPE product_status ADD VALUE IF NOT EXISTS 'retracted';

-- Where a retracted product now lies (relative to PRODUCTS_ROOT), and which product a corrected
-- registration replaces.
ALTER TABLE products ADD COLUMN retracted_path text;
ALTER TABLE products ADD COLUMN supersedes text;

-- The worker still has file work to do for a retracted (move aside) or discarded (remove the
-- source) product; next_attempt_at is generated and stays NULL in those states.
ALTER TABLE products ADD COLUMN file_action_pending boolean NOT NULL DEFAULT false;

-- Who asked for an operator transition, why, and the values it replaced (amend keeps the old ones).
ALTER TABLE product_events ADD COLUMN actor text;
ALTER TABLE product_events ADD COLUMN reason text;
ALTER TABLE product_events ADD COLUMN detail jsonb;

-- The staged-age figure leaves held products (next_attempt_at NULL) out; this index answers it.
CREATE INDEX products_staged_waiting_idx ON products (staged_at, data_type) WHERE status = 'staging' AND NOT held;

-- Retracted and discarded products whose file work is pending, for the reconciler.
CREATE INDEX products_file_action_idx ON products (updated_at) WHERE file_action_pending;

-- Pauses: one row per scope, '*' for the whole service or a data_type. Claims stop while a row exists.
CREATE TABLE publishing_pauses (
  scope     text PRIMARY KEY,
  actor     text NOT NULL,
  reason    text NOT NULL,
  paused_at timestamptz NOT NULL DEFAULT now()
);

-- Run-time settings the workers re-read (the bandwidth limit); absent = the environment's value.
CREATE TABLE publishing_settings (
  name       text PRIMARY KEY,
  value      jsonb NOT NULL,
  actor      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The audit trail of pauses, resumes and setting changes.
CREATE TABLE publishing_control_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action     text NOT NULL,
  scope      text,
  actor      text NOT NULL,
  reason     text,
  detail     jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
-- Enum values cannot be dropped; rows in the new states go back to the nearest old one.
UPDATE products SET status = 'failed' WHERE status::text IN ('discarded', 'retracted');
DROP TABLE publishing_control_events;
DROP TABLE publishing_settings;
DROP TABLE publishing_pauses;
DROP INDEX products_file_action_idx;
DROP INDEX products_staged_waiting_idx;
ALTER TABLE product_events DROP COLUMN detail;
ALTER TABLE product_events DROP COLUMN reason;
ALTER TABLE product_events DROP COLUMN actor;
ALTER TABLE products DROP COLUMN file_action_pending;
ALTER TABLE products DROP COLUMN supersedes;
ALTER TABLE products DROP COLUMN retracted_path;
