-- Up Migration
-- A group's commit adds the `published` events of up to PUBLISH_GROUP_SIZE products in one
-- statement, and the trigger that keeps their latest outcomes went through them one at a time: a
-- look-up of the product's kept rows and an insert per event, 0.14 ms of PostgreSQL each (9 ms a
-- commit of 64, a fifth of PostgreSQL's time while small products were published in batches,
-- docs/performance.md, tenth pass). Nearly every such event is its product's first outcome and the
-- only one in its statement: nothing kept to compare it with, so the loop would insert it as it
-- stands. Those are now inserted together; the others (a retry's outcome, several of one product in
-- one statement) go through the loop as before, which the first step leaves untouched.
CREATE OR REPLACE FUNCTION product_events_keep_latest_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
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
  -- First outcomes, alone in the statement and with nothing kept: the loop's insert, at once.
  INSERT INTO latest_outcomes (product_id, event_id, at, succeeded, counted, products, successes)
  SELECT a.product_id, a.id, a.created_at, a.to_status = 'published', p.status::text <> 'discarded', 1, (a.to_status = 'published')::int
    FROM added_events a JOIN products p ON p.id = a.product_id
   WHERE a.ends_attempt
     AND NOT EXISTS (SELECT 1 FROM latest_outcomes o WHERE o.product_id = a.product_id)
     AND NOT EXISTS (SELECT 1 FROM added_events b WHERE b.product_id = a.product_id AND b.ends_attempt AND b.id <> a.id)
   ORDER BY a.product_id;
  -- The rest one by one: products with kept rows other than an event of this statement's, or with
  -- several outcomes in it (none of theirs was inserted above).
  FOR e IN SELECT a.product_id, a.id, a.created_at, a.to_status = 'published' AS succeeded, p.status::text <> 'discarded' AS counted
             FROM added_events a JOIN products p ON p.id = a.product_id
            WHERE a.ends_attempt
              AND NOT EXISTS (SELECT 1 FROM latest_outcomes o WHERE o.product_id = a.product_id AND o.event_id = a.id)
            ORDER BY a.product_id, a.id LOOP
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

-- Down Migration
CREATE OR REPLACE FUNCTION product_events_keep_latest_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
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
