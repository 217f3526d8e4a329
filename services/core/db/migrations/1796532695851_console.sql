-- Up Migration
-- The operator console: server-side sessions, and the indexes its products search needs.

-- A signed-in console session. The cookie holds a random id; only its SHA-256 is stored. The
-- session names the token it was opened with by that token's SHA-256, so a revoked (or, for the
-- bootstrap token, a replaced) token ends its sessions at the very next request.
CREATE TABLE console_sessions (
  id_sha256    text PRIMARY KEY,
  token_sha256 text NOT NULL,
  token_name   text NOT NULL,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  CONSTRAINT console_sessions_id_hex CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT console_sessions_token_hex CHECK (token_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
CREATE INDEX console_sessions_token_idx ON console_sessions (token_sha256);

-- Products search, newest first: data_id prefix (LIKE 'abc%' needs pattern ops under any collation),
-- metadata key=value (jsonb containment) and error class, each a bounded index range at any registry size.
CREATE INDEX products_data_id_pattern_idx ON products (data_id text_pattern_ops);
CREATE INDEX products_metadata_idx ON products USING gin (metadata jsonb_path_ops);
CREATE INDEX products_error_class_created_idx ON products (error_class, created_at, id) WHERE error_class IS NOT NULL;

-- Down Migration
DROP INDEX products_error_class_created_idx;
DROP INDEX products_metadata_idx;
DROP INDEX products_data_id_pattern_idx;
DROP TABLE console_sessions;
