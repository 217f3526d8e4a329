-- Up Migration
-- The console's data_id prefix search at any registry size. The matches of a prefix can sit
-- anywhere in time (ids often embed a date or a counter, so a prefix's matches are old ones), and
-- the planner, assuming them spread evenly, walked the newest-first index past every newer row:
-- 870,000 rows for `seed-12` at 1,000,000 products. The search now takes its candidates from this
-- index when the newest rows hold too few of them; carrying created_at and id makes that an
-- index-only range scan of the matches, sorted for the page without touching the table.
DROP INDEX products_data_id_pattern_idx;
CREATE INDEX products_data_id_pattern_idx ON products (data_id text_pattern_ops) INCLUDE (created_at, id);

-- Down Migration
DROP INDEX products_data_id_pattern_idx;
CREATE INDEX products_data_id_pattern_idx ON products (data_id text_pattern_ops);
