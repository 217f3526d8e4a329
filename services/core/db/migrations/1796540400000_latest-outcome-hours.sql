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

-- What some products' counted rows add to each hour and shard.
CREATE FUNCTION latest_outcome_shares(product_ids bigint[]) RETURNS SETOF latest_outcome_hours LANGUAGE sql STABLE AS $$
  SELECT floor(extract(epoch FROM at) / 3600)::bigint, (product_id % 16)::smallint, sum(products)::bigint, sum(successes)::bigint
    FROM latest_outcomes
   WHERE product_id = ANY (product_ids) AND counted
   GROUP BY 1, 2
$$;

-- Moves some products' shares in the hours from `old_shares` (taken before their rows changed) to
-- what their rows add now, in one upsert in (hour, shard) order: every statement takes its hour
-- rows in the same order, so two statements that change the outcomes of many products at once (a
-- group's commit, a batch of reclaimed leases) cannot deadlock on them, nor with a single change.
CREATE FUNCTION latest_outcome_hours_move(product_ids bigint[], old_shares latest_outcome_hours[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  zero_hours bigint[];
  zero_shards smallint[];
BEGIN
  WITH changed AS (
    INSERT INTO latest_outcome_hours AS o (hour, shard, products, successes)
    SELECT d.hour, d.shard, sum(d.products), sum(d.successes)
      FROM (SELECT * FROM latest_outcome_shares(product_ids)
            UNION ALL SELECT b.hour, b.shard, -b.products, -b.successes FROM unnest(old_shares) b) d
     GROUP BY d.hour, d.shard
    HAVING sum(d.products) <> 0 OR sum(d.successes) <> 0
     ORDER BY d.hour, d.shard
    -- Always an upsert: an hour's successes may sum to zero while rows still count in it, so a
    -- decrement can find its row deleted and must start it again.
    ON CONFLICT (hour, shard) DO UPDATE SET products = o.products + EXCLUDED.products, successes = o.successes + EXCLUDED.successes
    RETURNING o.hour, o.shard, o.products, o.successes)
  SELECT array_agg(c.hour), array_agg(c.shard) INTO zero_hours, zero_shards FROM changed c WHERE c.products = 0 AND c.successes = 0;
  -- Those rows stay locked by this transaction until commit, so nobody counts into them meanwhile.
  IF zero_hours IS NOT NULL THEN
    DELETE FROM latest_outcome_hours h USING unnest(zero_hours, zero_shards) AS z(hour, shard)
     WHERE h.hour = z.hour AND h.shard = z.shard;
  END IF;
END $$;

-- New attempt-ending events (the same condition as the success rate's, ends_attempt), per statement
-- so that a statement's hour rows are taken in order, all at once (above).
CREATE FUNCTION product_events_keep_latest_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  e record;
  outdone boolean;
  outdoes boolean;
  stays boolean;
  reordered boolean := false;
  old_shares latest_outcome_hours[];
BEGIN
  -- One writer per product at a time, in id order like every batch. A transition already holds
  -- these locks (it changed the rows in the same statement); only bare inserts into the event log
  -- ever wait here.
  SELECT array_agg(id ORDER BY id) INTO ids
    FROM (SELECT id FROM products WHERE id IN (SELECT product_id FROM added_events WHERE ends_attempt)
           ORDER BY id FOR NO KEY UPDATE) locked;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  old_shares := ARRAY(SELECT x FROM latest_outcome_shares(ids) x);
  FOR e IN SELECT a.product_id, a.id, a.created_at, a.to_status = 'published' AS succeeded, p.status::text <> 'discarded' AS counted
             FROM added_events a JOIN products p ON p.id = a.product_id
            WHERE a.ends_attempt ORDER BY a.product_id, a.id LOOP
    SELECT COALESCE(bool_or(event_id > e.id AND at >= e.created_at), false),
           COALESCE(bool_or(event_id < e.id AND at <= e.created_at), false),
           COALESCE(bool_or(NOT (event_id < e.id AND at <= e.created_at)), false)
      INTO outdone, outdoes, stays
      FROM latest_outcomes WHERE product_id = e.product_id;
    -- Outdone already (a higher id at a time no earlier): it decides no window.
    CONTINUE WHEN outdone;
    -- The rows it outdoes; normally the product's one previous outcome.
    IF outdoes THEN
      DELETE FROM latest_outcomes WHERE product_id = e.product_id AND event_id < e.id AND at <= e.created_at;
    END IF;
    -- Rows that stay: out of order, it sits between them; contributions are worked out again below.
    reordered := reordered OR stays;
    INSERT INTO latest_outcomes (product_id, event_id, at, succeeded, counted, products, successes)
    VALUES (e.product_id, e.id, e.created_at, e.succeeded, e.counted, 1, e.succeeded::int);
  END LOOP;
  IF reordered THEN
    UPDATE latest_outcomes o SET products = d.products, successes = d.successes
      FROM (SELECT product_id, event_id, CASE WHEN row_number() OVER w = 1 THEN 1 ELSE 0 END AS products,
                   succeeded::int - COALESCE(lag(succeeded::int) OVER w, 0) AS successes
              FROM latest_outcomes WHERE product_id = ANY (ids)
            WINDOW w AS (PARTITION BY product_id ORDER BY at DESC)) d
     WHERE o.product_id = d.product_id AND o.event_id = d.event_id
       AND (o.products, o.successes) IS DISTINCT FROM (d.products, d.successes);
  END IF;
  PERFORM latest_outcome_hours_move(ids, old_shares);
  RETURN NULL;
END $$;

CREATE TRIGGER product_events_keep_latest_outcomes AFTER INSERT ON product_events
  REFERENCING NEW TABLE AS added_events FOR EACH STATEMENT
  EXECUTE FUNCTION product_events_keep_latest_outcomes();

-- A product that becomes discarded leaves the sums, and would return to them if it ever left that
-- state (no transition does today); a deleted product leaves them too (before the cascade takes its
-- rows, whose shares are needed). Compared as text: a fresh database runs every migration in one
-- transaction, in which PostgreSQL refuses the enum value added by an earlier one. Discards go one
-- product at a time, so row triggers, which cost the other updates of products nothing.
CREATE FUNCTION products_count_latest_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_shares latest_outcome_hours[] := ARRAY(SELECT x FROM latest_outcome_shares(ARRAY[OLD.id]) x);
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM latest_outcomes WHERE product_id = OLD.id;
  ELSE
    UPDATE latest_outcomes SET counted = NEW.status::text <> 'discarded' WHERE product_id = NEW.id;
  END IF;
  PERFORM latest_outcome_hours_move(ARRAY[OLD.id], old_shares);
  RETURN OLD;
END $$;

CREATE TRIGGER products_count_latest_outcome AFTER UPDATE OF status ON products
  FOR EACH ROW WHEN ((OLD.status::text = 'discarded') <> (NEW.status::text = 'discarded'))
  EXECUTE FUNCTION products_count_latest_outcome();
CREATE TRIGGER products_forget_latest_outcome BEFORE DELETE ON products
  FOR EACH ROW EXECUTE FUNCTION products_count_latest_outcome();

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

-- The hours of the rows above, grouped as latest_outcome_shares does. The triggers exist already:
-- creating them locked products and product_events against writes until this migration commits,
-- so no event falls between the backfill and the trigger.
INSERT INTO latest_outcome_hours (hour, shard, products, successes)
  SELECT floor(extract(epoch FROM at) / 3600)::bigint, (product_id % 16)::smallint, sum(products), sum(successes)
    FROM latest_outcomes
   WHERE counted
   GROUP BY 1, 2
  HAVING sum(products) <> 0 OR sum(successes) <> 0;

-- Down Migration
DROP TRIGGER products_forget_latest_outcome ON products;
DROP TRIGGER products_count_latest_outcome ON products;
DROP FUNCTION products_count_latest_outcome();
DROP TRIGGER product_events_keep_latest_outcomes ON product_events;
DROP FUNCTION product_events_keep_latest_outcomes();
DROP FUNCTION latest_outcome_hours_move(bigint[], latest_outcome_hours[]);
DROP FUNCTION latest_outcome_shares(bigint[]);
DROP TABLE latest_outcomes;
DROP TABLE latest_outcome_hours;
