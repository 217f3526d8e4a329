-- Up Migration
-- next_attempt_at used to mean four things: when a staging row is due, a copy of a publishing
-- row's lease expiry, "held" (NULL on a staging row registered with auto_publish false) and
-- "source removal pending" (set on a published move-mode row). Each is now its own column, and
-- next_attempt_at is derived from them: it stays the one key the reconciler's due sweep walks
-- (products_due_idx) and what the API shows, but nothing writes it any more.
--   due_at                  staging: when the next attempt may start (NULL: due since registration)
--   held                    staging: waits for POST /products/{id}/publish before it is due
--   lease_expires_at        publishing: already its own column; the only expiry rule reads it
--   source_removal_pending  published, move mode: the source has still to be removed
ALTER TABLE products
  ADD COLUMN due_at timestamptz,
  ADD COLUMN held boolean NOT NULL DEFAULT false,
  ADD COLUMN source_removal_pending boolean NOT NULL DEFAULT false;

UPDATE products
   SET due_at = CASE WHEN status = 'staging' AND next_attempt_at > '-infinity' THEN next_attempt_at END,
       held = (status = 'staging' AND next_attempt_at IS NULL),
       source_removal_pending = (status = 'published' AND next_attempt_at IS NOT NULL)
 WHERE status = 'staging' OR (status = 'published' AND next_attempt_at IS NOT NULL);

DROP INDEX products_cleanup_idx;
DROP INDEX products_due_idx;
ALTER TABLE products DROP COLUMN next_attempt_at;
ALTER TABLE products ADD COLUMN next_attempt_at timestamptz GENERATED ALWAYS AS (
  CASE
    WHEN status = 'staging' AND NOT held THEN COALESCE(due_at, '-infinity'::timestamptz)
    WHEN status = 'publishing' THEN lease_expires_at
    WHEN status = 'published' AND source_removal_pending THEN published_at
  END) STORED;
CREATE INDEX products_due_idx ON products (next_attempt_at, id) WHERE status IN ('staging', 'publishing');
CREATE INDEX products_cleanup_idx ON products (published_at) WHERE status = 'published' AND source_removal_pending;

-- Which events end a publish attempt (for the success rate) used to be decided here, by event
-- name. The transition that writes an event now says so itself, so a new kind of event needs no
-- migration. Only the last 25 hours of the log are ever read for this (the hours table holds
-- the rest), so only they are backfilled.
ALTER TABLE product_events ADD COLUMN ends_attempt boolean NOT NULL DEFAULT false;
UPDATE product_events SET ends_attempt = true
 WHERE created_at >= now() - interval '25 hours'
   AND from_status = 'publishing' AND to_status <> 'publishing' AND event <> 'lease_released';

DROP TRIGGER product_events_count_attempt ON product_events;
CREATE TRIGGER product_events_count_attempt AFTER INSERT ON product_events
  FOR EACH ROW WHEN (NEW.ends_attempt)
  EXECUTE FUNCTION product_events_count_attempt();

-- Down Migration
DROP TRIGGER product_events_count_attempt ON product_events;
CREATE TRIGGER product_events_count_attempt AFTER INSERT ON product_events
  FOR EACH ROW WHEN (NEW.from_status = 'publishing' AND NEW.to_status <> 'publishing' AND NEW.event <> 'lease_released')
  EXECUTE FUNCTION product_events_count_attempt();
ALTER TABLE product_events DROP COLUMN ends_attempt;

DROP INDEX products_cleanup_idx;
DROP INDEX products_due_idx;
ALTER TABLE products ADD COLUMN next_attempt_at_old timestamptz;
UPDATE products SET next_attempt_at_old = next_attempt_at WHERE next_attempt_at IS NOT NULL;
ALTER TABLE products DROP COLUMN next_attempt_at;
ALTER TABLE products RENAME COLUMN next_attempt_at_old TO next_attempt_at;
ALTER TABLE products DROP COLUMN due_at, DROP COLUMN held, DROP COLUMN source_removal_pending;
CREATE INDEX products_due_idx ON products (next_attempt_at, id) WHERE status IN ('staging', 'publishing');
CREATE INDEX products_cleanup_idx ON products (next_attempt_at) WHERE status = 'published' AND next_attempt_at IS NOT NULL;
