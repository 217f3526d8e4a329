-- Up Migration
-- GET /api/monitoring/publish/status must cost the same at a million products as at ten thousand.
--
-- max_attempts_exceeded counts failed products by publish_attempts: an index of just those two
-- facts answers it from the index alone, without visiting each failed row.
CREATE INDEX products_failed_attempts_idx ON products (publish_attempts) WHERE status = 'failed';

-- Success rate and recent failures cover the last 24 h of publish attempts. Counting them from
-- product_events read every event of the window, so the status route slowed down as activity
-- grew. Attempts that end are now also counted per hour (UTC epoch hours, spread over 16 shards
-- by product id so concurrent commits do not queue on one row); a reader sums at most 25 hour
-- rows and counts the events of the one partial hour at the window's start exactly.
CREATE TABLE publish_attempt_hours (
  hour bigint NOT NULL,
  shard smallint NOT NULL,
  attempts bigint NOT NULL,
  successes bigint NOT NULL,
  PRIMARY KEY (hour, shard)
);

-- The same condition as "an attempt ended" in registry-stats.repository.ts.
CREATE FUNCTION product_events_count_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO publish_attempt_hours (hour, shard, attempts, successes)
  VALUES (floor(extract(epoch FROM NEW.created_at) / 3600)::bigint, NEW.product_id % 16, 1,
          CASE WHEN NEW.to_status = 'published' THEN 1 ELSE 0 END)
  ON CONFLICT (hour, shard) DO UPDATE
    SET attempts = publish_attempt_hours.attempts + 1,
        successes = publish_attempt_hours.successes + EXCLUDED.successes;
  RETURN NULL;
END $$;

CREATE TRIGGER product_events_count_attempt AFTER INSERT ON product_events
  FOR EACH ROW WHEN (NEW.from_status = 'publishing' AND NEW.to_status <> 'publishing' AND NEW.event <> 'lease_released')
  EXECUTE FUNCTION product_events_count_attempt();

-- Emptying the event log (TRUNCATE, also by cascade from products) empties the hours with it.
CREATE FUNCTION product_events_forget_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE publish_attempt_hours;
  RETURN NULL;
END $$;

CREATE TRIGGER product_events_forget_attempts AFTER TRUNCATE ON product_events
  FOR EACH STATEMENT EXECUTE FUNCTION product_events_forget_attempts();

-- Older hours are never read, so only the last 25 are backfilled.
INSERT INTO publish_attempt_hours (hour, shard, attempts, successes)
  SELECT floor(extract(epoch FROM created_at) / 3600)::bigint, product_id % 16, count(*), count(*) FILTER (WHERE to_status = 'published')
    FROM product_events
   WHERE created_at >= now() - interval '25 hours'
     AND from_status = 'publishing' AND to_status <> 'publishing' AND event <> 'lease_released'
   GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER product_events_forget_attempts ON product_events;
DROP FUNCTION product_events_forget_attempts();
DROP TRIGGER product_events_count_attempt ON product_events;
DROP FUNCTION product_events_count_attempt();
DROP TABLE publish_attempt_hours;
DROP INDEX products_failed_attempts_idx;
