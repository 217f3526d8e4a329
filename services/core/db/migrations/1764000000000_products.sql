-- Up Migration
-- The registry: one row per product, an append-only event log, and per-status counts kept by
-- trigger so registry-wide figures (metrics, status endpoints) never scan the products table.

CREATE TYPE product_status AS ENUM ('staging', 'publishing', 'published', 'failed');
CREATE TYPE product_kind AS ENUM ('file', 'directory');

CREATE TABLE products (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  data_id          text NOT NULL,
  data_type        text NOT NULL,
  stage_path       text NOT NULL,
  -- Where the product goes, relative to PRODUCTS_ROOT: its path relative to STAGE_ROOT.
  destination_path text NOT NULL,
  published_path   text,
  kind             product_kind NOT NULL,
  status           product_status NOT NULL DEFAULT 'staging',
  size_bytes       bigint,
  file_count       integer,
  checksum_sha256  text,
  manifest         jsonb,
  expected_sha256  text,
  publish_attempts integer NOT NULL DEFAULT 0,
  publish_error    text,
  error_class      text,
  lease_token      uuid,
  lease_owner      text,
  lease_expires_at timestamptz,
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  staged_at        timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  next_attempt_at  timestamptz,
  CONSTRAINT products_data_id_key UNIQUE (data_id),
  CONSTRAINT products_destination_key UNIQUE (destination_path),
  CONSTRAINT products_checksum_hex CHECK (checksum_sha256 IS NULL OR checksum_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT products_expected_hex CHECK (expected_sha256 IS NULL OR expected_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT products_lease_complete CHECK ((lease_token IS NULL) = (lease_expires_at IS NULL))
);

-- Keyset pagination (created_at, id), optionally within one status or type.
CREATE INDEX products_created_idx ON products (created_at, id);
CREATE INDEX products_status_created_idx ON products (status, created_at, id);
CREATE INDEX products_type_created_idx ON products (data_type, created_at, id);
-- The reconciler's "due" sweep and the oldest-staged gauge.
CREATE INDEX products_due_idx ON products (next_attempt_at) WHERE status IN ('staging', 'publishing');
CREATE INDEX products_staged_idx ON products (staged_at) WHERE status = 'staging';
-- Expired leases are found without scanning published rows.
CREATE INDEX products_lease_idx ON products (lease_expires_at) WHERE lease_token IS NOT NULL;
-- The failed list stays small; keep it indexed on its own.
CREATE INDEX products_failed_idx ON products (updated_at, id) WHERE status = 'failed';
-- Destinations that nest inside one another (a directory product and a file within it).
CREATE INDEX products_destination_prefix_idx ON products (destination_path text_pattern_ops);

CREATE TABLE product_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  data_id      text NOT NULL,
  event        text NOT NULL,
  attempt      integer NOT NULL DEFAULT 0,
  from_status  product_status,
  to_status    product_status NOT NULL,
  error_class  text,
  error        text,
  bytes        bigint,
  duration_ms  integer,
  worker       text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_events_product_idx ON product_events (product_id, id);
CREATE INDEX product_events_time_idx ON product_events (created_at, event);

CREATE TABLE product_status_counts (
  data_type text NOT NULL,
  status    product_status NOT NULL,
  count     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (data_type, status)
);

CREATE FUNCTION products_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER products_count_status_insert_delete
  AFTER INSERT OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION products_count_status();
CREATE TRIGGER products_count_status_update
  AFTER UPDATE OF status, data_type ON products FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.data_type IS DISTINCT FROM NEW.data_type)
  EXECUTE FUNCTION products_count_status();

-- Down Migration
DROP TABLE product_events;
DROP TABLE products;
DROP FUNCTION products_count_status();
DROP TABLE product_status_counts;
DROP TYPE product_kind;
DROP TYPE product_status;
