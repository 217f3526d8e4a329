-- Up Migration
-- The reconciler pages through due products in (next_attempt_at, id) keyset order: with id in the
-- index each page is a bounded index range, even when a million products are due at once (after a
-- Redis flush), instead of a sort of every due row per page.
DROP INDEX products_due_idx;
CREATE INDEX products_due_idx ON products (next_attempt_at, id) WHERE status IN ('staging', 'publishing');
-- Move mode: a published row keeps next_attempt_at set until its source is removed, so a crash
-- between the commit and the removal is finished later. This index finds those rows cheaply.
CREATE INDEX products_cleanup_idx ON products (next_attempt_at) WHERE status = 'published' AND next_attempt_at IS NOT NULL;

-- Down Migration
DROP INDEX products_cleanup_idx;
DROP INDEX products_due_idx;
CREATE INDEX products_due_idx ON products (next_attempt_at) WHERE status IN ('staging', 'publishing');
