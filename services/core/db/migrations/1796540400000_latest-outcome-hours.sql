-- Up Migration
-- The 24 h success rate counts each product once, by its latest attempt outcome in the window
-- (a failure fixed by a retry is a success; discarded products do not count). It was read with a
-- DISTINCT ON over every attempt-ending event of the window, so the status route's cost grew with
-- activity: 1.26 ms of PostgreSQL CPU per request at 10,000 products. Unlike attempts, outcomes are
-- not additive (a product's newer outcome replaces its older one), so the hours now count products
-- by where their latest outcome lies: when a new outcome arrives, the product's old hour loses it
-- and the new hour gains it. A reader sums the whole hours of the window and counts the partial
-- hour at the window's start exactly from an index on the outcome time.
--
-- "Latest" is the event with the highest id among those created since the window's start. Ids and
-- times agree in production (the transition holds the product's row lock), but nothing forces it:
-- an event may carry an older time than one written before it. To stay exact for every window,
-- a product keeps each attempt-ending event that decides some window: those that no event with a
-- higher id and a time no earlier outdoes. Ordered newest time first (so lowest id first) they are
-- f1, f2, …; for a window starting at `since` the answer is the last fi with at >= since. Each
-- row therefore carries what it adds to the sums over rows with at >= since:
--   products   1 on f1 (the product has an outcome in every window that reaches f1), else 0
--   successes  succeeded(fi) - succeeded(fi-1) (summing from f1 to fi telescopes to succeeded(fi))
-- Normally a product has one such row, and a new outcome replaces it.
CREATE TABLE latest_outcomes (
  product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  event_id   bigint NOT NULL,
  at         timestamptz NOT NULL,
  succeeded  boolean NOT NULL,
  -- false while the product is discarded: its rows then count nowhere.
  counted    boolean NOT NULL,
  products   smallint NOT NULL,
  successes  smallint NOT NULL,
  PRIMARY KEY (product_id, event_id)
);
-- The partial hour at the window's start, counted exactly and from the index alone.
CREATE INDEX latest_outcomes_at_idx ON latest_outcomes (at) INCLUDE (products, successes) WHERE counted;

-- The sums of the counted rows per UTC epoch hour of `at`, spread over 16 shards by product id
-- so that concurrent commits do not queue on one row. A row that drops to zero is deleted, so the
-- table holds only hours in which some product's latest outcome lies.
CREATE TABLE latest_outcome_hours (
  hour      bigint NOT NULL,
  shard     smallint NOT NULL,
  products  bigint NOT NULL,
  successes bigint NOT NULL,
  PRIMARY KEY (hour, shard)
);

CREATE FUNCTION latest_outcome_hours_add(outcome_at timestamptz, owner_id bigint, add_products integer, add_successes integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  h bigint := floor(extract(epoch FROM outcome_at) / 3600)::bigint;
  s smallint := owner_id % 16;
  left_products bigint;
  left_successes bigint;
BEGIN
  IF add_products = 0 AND add_successes = 0 THEN
    RETURN;
  END IF;
  -- Always an upsert: an hour's successes may sum to zero while rows still count in it, so a
  -- decrement can find its row deleted and must start it again.
  INSERT INTO latest_outcome_hours AS o (hour, shard, products, successes) VALUES (h, s, add_products, add_successes)
  ON CONFLICT (hour, shard) DO UPDATE SET products = o.products + EXCLUDED.products, successes = o.successes + EXCLUDED.successes
  RETURNING o.products, o.successes INTO left_products, left_successes;
  -- The row stays locked by this transaction until commit, so nobody counts into it meanwhile.
  IF left_products = 0 AND left_successes = 0 THEN
    DELETE FROM latest_outcome_hours WHERE hour = h AND shard = s;
  END IF;
END $$;

CREATE FUNCTION latest_outcomes_count_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.counted THEN
    PERFORM latest_outcome_hours_add(OLD.at, OLD.product_id, -OLD.products, -OLD.successes);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.counted THEN
    PERFORM latest_outcome_hours_add(NEW.at, NEW.product_id, NEW.products, NEW.successes);
  END IF;
  RETURN NULL;
END $$;

-- A new attempt-ending event (the same condition as the success rate's, ends_attempt).
CREATE FUNCTION product_events_keep_latest_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  is_counted boolean;
BEGIN
  -- One writer per product at a time. A transition already holds this lock (it changed the row in
  -- the same statement), so only a bare insert into the event log ever waits here.
  SELECT p.status::text <> 'discarded' INTO is_counted FROM products p WHERE p.id = NEW.product_id FOR NO KEY UPDATE;
  -- Outdone already (a higher id at a time no earlier): it decides no window.
  IF EXISTS (SELECT 1 FROM latest_outcomes
              WHERE product_id = NEW.product_id AND event_id > NEW.id AND at >= NEW.created_at) THEN
    RETURN NULL;
  END IF;
  -- The rows it outdoes; normally the product's one previous outcome.
  DELETE FROM latest_outcomes WHERE product_id = NEW.product_id AND event_id < NEW.id AND at <= NEW.created_at;
  IF NOT EXISTS (SELECT 1 FROM latest_outcomes WHERE product_id = NEW.product_id) THEN
    INSERT INTO latest_outcomes (product_id, event_id, at, succeeded, counted, products, successes)
    VALUES (NEW.product_id, NEW.id, NEW.created_at, NEW.to_status = 'published', is_counted, 1,
            CASE WHEN NEW.to_status = 'published' THEN 1 ELSE 0 END);
    RETURN NULL;
  END IF;
  -- Out of order: the new row sits between others, whose contributions are worked out again.
  INSERT INTO latest_outcomes (product_id, event_id, at, succeeded, counted, products, successes)
  VALUES (NEW.product_id, NEW.id, NEW.created_at, NEW.to_status = 'published', is_counted, 0, 0);
  UPDATE latest_outcomes o SET products = d.products, successes = d.successes
    FROM (SELECT event_id, CASE WHEN row_number() OVER w = 1 THEN 1 ELSE 0 END AS products,
                 succeeded::int - COALESCE(lag(succeeded::int) OVER w, 0) AS successes
            FROM latest_outcomes WHERE product_id = NEW.product_id
          WINDOW w AS (ORDER BY at DESC)) d
   WHERE o.product_id = NEW.product_id AND o.event_id = d.event_id
     AND (o.products, o.successes) IS DISTINCT FROM (d.products, d.successes);
  RETURN NULL;
END $$;

CREATE TRIGGER product_events_keep_latest_outcome AFTER INSERT ON product_events
  FOR EACH ROW WHEN (NEW.ends_attempt)
  EXECUTE FUNCTION product_events_keep_latest_outcome();

-- A product that becomes discarded leaves the sums, and would return to them if it ever left that
-- state (no transition does today). Compared as text: a fresh database runs every migration in one
-- transaction, in which PostgreSQL refuses the enum value added by an earlier one.
CREATE FUNCTION products_count_latest_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE latest_outcomes SET counted = NEW.status::text <> 'discarded' WHERE product_id = NEW.id;
  RETURN NULL;
END $$;

CREATE TRIGGER products_count_latest_outcome AFTER UPDATE OF status ON products
  FOR EACH ROW WHEN ((OLD.status::text = 'discarded') <> (NEW.status::text = 'discarded'))
  EXECUTE FUNCTION products_count_latest_outcome();

-- Emptying the registry (tests do, test/support/database.ts) empties latest_outcomes by cascade from
-- products; latest_outcome_hours is emptied in the same statement, as publish_attempt_hours is.

-- Backfill. Windows reach back 24 hours, so only the last 25 hours of events are read (ends_attempt
-- was backfilled for just those too): every event of a window that starts in them is included, and
-- that is all a window's answer depends on.
INSERT INTO latest_outcomes (product_id, event_id, at, succeeded, counted, products, successes)
  SELECT product_id, id, created_at, succeeded, counted,
         CASE WHEN row_number() OVER w = 1 THEN 1 ELSE 0 END,
         succeeded::int - COALESCE(lag(succeeded::int) OVER w, 0)
    FROM (SELECT e.product_id, e.id, e.created_at, e.to_status = 'published' AS succeeded,
                 p.status::text <> 'discarded' AS counted,
                 -- The latest time among the product's events with a higher id.
                 max(e.created_at) OVER (PARTITION BY e.product_id ORDER BY e.id DESC
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS outdone_at
            FROM product_events e JOIN products p ON p.id = e.product_id
           WHERE e.ends_attempt AND e.created_at >= now() - interval '25 hours') f
   WHERE outdone_at IS NULL OR outdone_at < created_at
  WINDOW w AS (PARTITION BY product_id ORDER BY created_at DESC);

-- The hours of the rows above in one grouped insert, then the trigger that keeps them from now on.
-- The triggers on products and product_events exist already: creating them locked both tables
-- against writes until this migration commits, so no event falls between backfill and trigger.
INSERT INTO latest_outcome_hours (hour, shard, products, successes)
  SELECT hour, shard, sum(products), sum(successes)
    FROM (SELECT floor(extract(epoch FROM at) / 3600)::bigint AS hour, (product_id % 16)::smallint AS shard, products, successes
            FROM latest_outcomes WHERE counted) r
   GROUP BY hour, shard
  HAVING sum(products) <> 0 OR sum(successes) <> 0;

CREATE TRIGGER latest_outcomes_count_hour AFTER INSERT OR UPDATE OR DELETE ON latest_outcomes
  FOR EACH ROW EXECUTE FUNCTION latest_outcomes_count_hour();

-- Down Migration
DROP TRIGGER products_count_latest_outcome ON products;
DROP FUNCTION products_count_latest_outcome();
DROP TRIGGER product_events_keep_latest_outcome ON product_events;
DROP FUNCTION product_events_keep_latest_outcome();
DROP TABLE latest_outcomes;
DROP FUNCTION latest_outcomes_count_hour();
DROP FUNCTION latest_outcome_hours_add(timestamptz, bigint, integer, integer);
DROP TABLE latest_outcome_hours;
