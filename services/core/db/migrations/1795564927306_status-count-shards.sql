-- Up Migration
-- Every status change used to update one counter row per (data_type, status): concurrent
-- registrations, claims and commits all queued on that row lock until the holder's commit had
-- been flushed, serialising the whole registry. The counts are now spread over 64 shards chosen
-- by product id (a product always counts in the same shard, so no shard goes negative); readers
-- sum over the shards. A shard row that drops to zero is deleted, so the rows are exactly those
-- recomputed from products (and a down/up round trip keeps them).
ALTER TABLE product_status_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE product_status_counts DROP CONSTRAINT product_status_counts_pkey;
DELETE FROM product_status_counts;
INSERT INTO product_status_counts (data_type, status, count, shard)
  SELECT data_type, status, count(*), id % 64 FROM products GROUP BY data_type, status, id % 64;
ALTER TABLE product_status_counts ADD PRIMARY KEY (data_type, status, shard);

CREATE OR REPLACE FUNCTION products_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- Down Migration
CREATE OR REPLACE FUNCTION products_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE product_status_counts SET count = count - 1
     WHERE data_type = OLD.data_type AND status = OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO product_status_counts (data_type, status, count) VALUES (NEW.data_type, NEW.status, 1)
    ON CONFLICT (data_type, status) DO UPDATE SET count = product_status_counts.count + 1;
  END IF;
  RETURN NULL;
END $$;
ALTER TABLE product_status_counts DROP CONSTRAINT product_status_counts_pkey;
WITH merged AS (DELETE FROM product_status_counts RETURNING data_type, status, count)
INSERT INTO product_status_counts (data_type, status, shard, count)
  SELECT data_type, status, 0, sum(count) FROM merged GROUP BY data_type, status;
ALTER TABLE product_status_counts DROP COLUMN shard;
ALTER TABLE product_status_counts ADD PRIMARY KEY (data_type, status);
