-- Up Migration
-- A corrected product names the one it replaces in `supersedes` (a data_id) at registration. Each
-- product is superseded at most once, so "superseded by" has one answer; the index also finds it.
CREATE UNIQUE INDEX products_supersedes_key ON products (supersedes) WHERE supersedes IS NOT NULL;

-- Down Migration
DROP INDEX products_supersedes_key;
