-- Up Migration
-- API tokens: only the SHA-256 of a token is stored; the plaintext is shown once, at creation.
-- Scopes form a ladder (read < publish < admin); a revoked token stays listed for the audit trail.

CREATE TABLE api_tokens (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL,
  token_sha256 text NOT NULL,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  CONSTRAINT api_tokens_name_key UNIQUE (name),
  CONSTRAINT api_tokens_hash_key UNIQUE (token_sha256),
  CONSTRAINT api_tokens_name_format CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
  CONSTRAINT api_tokens_hash_hex CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT api_tokens_scopes_known CHECK (
    cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'publish', 'admin']::text[]
  )
);

-- Down Migration
DROP TABLE api_tokens;
