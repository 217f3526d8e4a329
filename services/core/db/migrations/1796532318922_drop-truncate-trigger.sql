-- Up Migration
-- Nothing in production empties the event log with TRUNCATE; only tests did, and they now empty
-- every registry table themselves (test/support/database.ts, emptyRegistry).
DROP TRIGGER product_events_forget_attempts ON product_events;
DROP FUNCTION product_events_forget_attempts();

-- Down Migration
CREATE FUNCTION product_events_forget_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE publish_attempt_hours;
  RETURN NULL;
END $$;

CREATE TRIGGER product_events_forget_attempts AFTER TRUNCATE ON product_events
  FOR EACH STATEMENT EXECUTE FUNCTION product_events_forget_attempts();
