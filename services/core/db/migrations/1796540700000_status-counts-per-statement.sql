-- Up Migration
-- The status counts were kept by a row trigger, each product counted in the shard of its id: a
-- statement that changed 64 products (a group's claim or commit) ran the trigger 64 times and
-- changed 128 counter rows, 70 µs a product, half of a group claim's time in PostgreSQL
-- (docs/performance.md, tenth pass), inside the turn that group claims, group commits and batch
-- registrations take one at a time. A statement now moves its counts once: the products it
-- inserted, changed or deleted are summed per (data_type, status), and the sums go to the shard of
-- the backend that runs it, in one upsert in key order. A shard no longer follows a product (its
-- decrement may land in another shard than its increment), so a shard may go below zero: only the
-- sums over the shards, which every reader takes, are counts. Concurrent writers still count into
-- different shards (each backend its own), so they do not queue on one row, and a statement takes
-- its rows in key order, so two statements cannot deadlock on them. A row that reaches zero is
-- deleted, so the table holds at most 64 rows per (data_type, status).
DROP TRIGGER products_count_status_insert_delete ON products;
DROP TRIGGER products_count_status_update ON products;
DROP FUNCTION products_count_status();

-- Adds each (data_type, status)'s delta to this backend's shard, in key order; deletes a row left at zero.
CREATE FUNCTION product_status_counts_move(types text[], statuses product_status[], deltas bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  my_shard smallint := (pg_backend_pid() % 64)::smallint;
  zero_types text[];
  zero_statuses product_status[];
BEGIN
  WITH changed AS (
    INSERT INTO product_status_counts AS c (data_type, status, shard, count)
    SELECT d.data_type, d.status, my_shard, d.n FROM unnest(types, statuses, deltas) AS d(data_type, status, n)
     WHERE d.n <> 0 ORDER BY d.data_type, d.status
    ON CONFLICT (data_type, status, shard) DO UPDATE SET count = c.count + EXCLUDED.count
    RETURNING c.data_type, c.status, c.count)
  SELECT array_agg(data_type), array_agg(status) INTO zero_types, zero_statuses FROM changed WHERE count = 0;
  -- Those rows stay locked by this transaction until commit, so nobody counts into them meanwhile.
  IF zero_types IS NOT NULL THEN
    DELETE FROM product_status_counts c USING unnest(zero_types, zero_statuses) AS z(data_type, status)
     WHERE c.data_type = z.data_type AND c.status = z.status AND c.shard = my_shard;
  END IF;
END $$;

-- The statement's net change per (data_type, status). Each operation has its own transition
-- tables, and PL/pgSQL plans a statement only when it first runs, so each branch names only its own.
CREATE FUNCTION products_count_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  types text[];
  statuses product_status[];
  deltas bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(data_type), array_agg(status), array_agg(n) INTO types, statuses, deltas
      FROM (SELECT data_type, status, count(*) AS n FROM new_rows GROUP BY 1, 2) d;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(data_type), array_agg(status), array_agg(n) INTO types, statuses, deltas
      FROM (SELECT data_type, status, -count(*) AS n FROM old_rows GROUP BY 1, 2) d;
  ELSE
    SELECT array_agg(data_type), array_agg(status), array_agg(n) INTO types, statuses, deltas
      FROM (SELECT data_type, status, sum(n) AS n
              FROM (SELECT data_type, status, -1 AS n FROM old_rows UNION ALL SELECT data_type, status, 1 FROM new_rows) x
             GROUP BY 1, 2 HAVING sum(n) <> 0) d;
  END IF;
  IF types IS NOT NULL THEN
    PERFORM product_status_counts_move(types, statuses, deltas);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER products_count_statuses_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION products_count_statuses();
CREATE TRIGGER products_count_statuses_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION products_count_statuses();
CREATE TRIGGER products_count_statuses_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION products_count_statuses();

-- Down Migration
DROP TRIGGER products_count_statuses_delete ON products;
DROP TRIGGER products_count_statuses_update ON products;
DROP TRIGGER products_count_statuses_insert ON products;
DROP FUNCTION products_count_statuses();
DROP FUNCTION product_status_counts_move(text[], product_status[], bigint[]);
-- Back to a product's own shard: recounted from products.
DELETE FROM product_status_counts;
INSERT INTO product_status_counts (data_type, status, shard, count)
  SELECT data_type, status, (id % 64)::smallint, count(*) FROM products GROUP BY 1, 2, 3;
CREATE FUNCTION products_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  left_over bigint;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE product_status_counts SET count = count - 1
     WHERE data_type = OLD.data_type AND status = OLD.status AND shard = OLD.id % 64
    RETURNING count INTO left_over;
    -- The row stays locked by this transaction until commit, so nobody counts into it meanwhile.
    IF left_over = 0 THEN
      DELETE FROM product_status_counts WHERE data_type = OLD.data_type AND status = OLD.status AND shard = OLD.id % 64;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO product_status_counts (data_type, status, shard, count) VALUES (NEW.data_type, NEW.status, NEW.id % 64, 1)
    ON CONFLICT (data_type, status, shard) DO UPDATE SET count = product_status_counts.count + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER products_count_status_insert_delete
  AFTER INSERT OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION products_count_status();
CREATE TRIGGER products_count_status_update
  AFTER UPDATE OF status, data_type ON products FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.data_type IS DISTINCT FROM NEW.data_type)
  EXECUTE FUNCTION products_count_status();
