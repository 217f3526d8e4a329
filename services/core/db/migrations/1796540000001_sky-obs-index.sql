-- Up Migration
-- One GiST index over position and observation time together: a cone with a time window is then
-- answered inside the index, reading the heap pages of the products in both only, where the
-- position-only index read the heap page of every product in the cone before filtering on time
-- (docs/performance.md). Its first column is the position, so a cone alone uses it too. Every
-- search already requires an observation time, hence the predicate.
CREATE INDEX products_sky_obs_idx ON products USING gist (sky, obs_range) WHERE sky IS NOT NULL AND obs_range IS NOT NULL;
DROP INDEX products_sky_idx;

-- Down Migration
CREATE INDEX products_sky_idx ON products USING gist (sky) WHERE sky IS NOT NULL;
DROP INDEX products_sky_obs_idx;
