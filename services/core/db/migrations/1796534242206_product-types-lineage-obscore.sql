-- Up Migration
-- Product types that know astronomy (docs/product-types.md): what validation extracted from a
-- product, where and when it observed, what it was derived from, and the IVOA ObsCore view.

-- cube ships with PostgreSQL's contrib (in the official image) and is a trusted extension: the
-- database owner may create it. Positions are indexed as unit vectors in a GiST cube index.
CREATE EXTENSION IF NOT EXISTS cube;

ALTER TABLE products
  ADD COLUMN extracted jsonb,
  ADD COLUMN obs_start timestamptz,
  ADD COLUMN obs_end   timestamptz,
  ADD COLUMN ra_deg    double precision,
  ADD COLUMN dec_deg   double precision,
  ADD COLUMN freq_hz   double precision,
  ADD CONSTRAINT products_position_range CHECK (
    (ra_deg IS NULL) = (dec_deg IS NULL) AND (ra_deg IS NULL OR (ra_deg >= 0 AND ra_deg < 360 AND dec_deg BETWEEN -90 AND 90))),
  ADD CONSTRAINT products_obs_order CHECK (obs_end IS NULL OR obs_start IS NULL OR obs_end >= obs_start);

-- Derived from the columns above, so they can never disagree with them.
ALTER TABLE products
  ADD COLUMN obs_range tstzrange GENERATED ALWAYS AS (
    CASE WHEN obs_start IS NOT NULL THEN tstzrange(obs_start, coalesce(obs_end, obs_start), '[]') END) STORED,
  ADD COLUMN sky cube GENERATED ALWAYS AS (
    CASE WHEN ra_deg IS NOT NULL THEN cube(ARRAY[cos(radians(dec_deg)) * cos(radians(ra_deg)),
                                                cos(radians(dec_deg)) * sin(radians(ra_deg)),
                                                sin(radians(dec_deg))]) END) STORED;

CREATE INDEX products_obs_range_idx ON products USING gist (obs_range) WHERE obs_range IS NOT NULL;
CREATE INDEX products_sky_idx ON products USING gist (sky) WHERE sky IS NOT NULL;

-- Lineage: one row per (product, input) named in derived_from at registration.
CREATE TABLE product_inputs (
  product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  input_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  PRIMARY KEY (product_id, input_id),
  CONSTRAINT product_inputs_not_self CHECK (product_id <> input_id)
);
-- Descendants are walked from the input side.
CREATE INDEX product_inputs_input_idx ON product_inputs (input_id, product_id);

-- IVOA ObsCore 1.1 (docs/product-types.md lists each column): one row per published product.
-- access_url is the product's path under the base URL the operator sets with
-- ALTER DATABASE … SET ferry.obscore_access_url = 'https://…/products/' (empty: relative paths).
CREATE SCHEMA IF NOT EXISTS ivoa;
CREATE VIEW ivoa.obscore AS
SELECT
  p.extracted #>> '{obscore,dataproduct_type}'                       AS dataproduct_type,
  (p.extracted #>> '{obscore,calib_level}')::smallint                 AS calib_level,
  'ferry'::text                                                        AS obs_collection,
  p.data_id                                                            AS obs_id,
  'ivo://ferry/products?' || p.data_id                                 AS obs_publisher_did,
  coalesce(current_setting('ferry.obscore_access_url', true), '') || p.published_path AS access_url,
  coalesce(p.extracted #>> '{obscore,access_format}',
           CASE p.kind WHEN 'directory' THEN 'application/x-directory' END) AS access_format,
  ceil(p.size_bytes / 1024.0)::bigint                                  AS access_estsize,
  p.extracted ->> 'object'                                             AS target_name,
  p.ra_deg                                                             AS s_ra,
  p.dec_deg                                                            AS s_dec,
  NULL::double precision                                               AS s_fov,
  NULL::text                                                           AS s_region,
  NULL::double precision                                               AS s_resolution,
  (p.extracted -> 'shape' ->> 0)::bigint                               AS s_xel1,
  (p.extracted -> 'shape' ->> 1)::bigint                               AS s_xel2,
  (extract(epoch FROM p.obs_start) / 86400.0 + 40587.0)::double precision AS t_min,
  (extract(epoch FROM p.obs_end) / 86400.0 + 40587.0)::double precision AS t_max,
  extract(epoch FROM p.obs_end - p.obs_start)::double precision        AS t_exptime,
  NULL::double precision                                               AS t_resolution,
  299792458.0 / nullif(p.freq_hz, 0)                                   AS em_min,
  299792458.0 / nullif(p.freq_hz, 0)                                   AS em_max,
  NULL::double precision                                               AS em_res_power,
  NULL::text                                                           AS o_ucd,
  NULL::text                                                           AS pol_states,
  p.extracted ->> 'telescope'                                          AS facility_name,
  p.extracted ->> 'instrument'                                         AS instrument_name,
  p.data_type                                                          AS ferry_data_type,
  p.published_at                                                       AS ferry_published_at
FROM products p
WHERE p.status = 'published';

-- Down Migration
DROP VIEW ivoa.obscore;
DROP SCHEMA ivoa;
DROP TABLE product_inputs;
ALTER TABLE products DROP COLUMN sky, DROP COLUMN obs_range;
ALTER TABLE products DROP CONSTRAINT products_obs_order, DROP CONSTRAINT products_position_range,
  DROP COLUMN freq_hz, DROP COLUMN dec_deg, DROP COLUMN ra_deg, DROP COLUMN obs_end, DROP COLUMN obs_start, DROP COLUMN extracted;
DROP EXTENSION IF EXISTS cube;
