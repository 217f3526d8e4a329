-- Up Migration
-- ivoa.obscore fills s_fov, s_region, s_resolution, em_res_power and pol_states from what FITS
-- validation extracts (fov_deg, region, resolution_arcsec, res_power, pol_states; see
-- docs/product-types.md). Same columns in the same order, so the view is replaced in place.
CREATE OR REPLACE VIEW ivoa.obscore AS
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
  (p.extracted ->> 'fov_deg')::double precision                       AS s_fov,
  p.extracted ->> 'region'                                             AS s_region,
  (p.extracted ->> 'resolution_arcsec')::double precision             AS s_resolution,
  (p.extracted -> 'shape' ->> 0)::bigint                               AS s_xel1,
  (p.extracted -> 'shape' ->> 1)::bigint                               AS s_xel2,
  (extract(epoch FROM p.obs_start) / 86400.0 + 40587.0)::double precision AS t_min,
  (extract(epoch FROM p.obs_end) / 86400.0 + 40587.0)::double precision AS t_max,
  extract(epoch FROM p.obs_end - p.obs_start)::double precision        AS t_exptime,
  NULL::double precision                                               AS t_resolution,
  299792458.0 / nullif(p.freq_hz, 0)                                   AS em_min,
  299792458.0 / nullif(p.freq_hz, 0)                                   AS em_max,
  (p.extracted ->> 'res_power')::double precision                     AS em_res_power,
  NULL::text                                                           AS o_ucd,
  p.extracted ->> 'pol_states'                                         AS pol_states,
  p.extracted ->> 'telescope'                                          AS facility_name,
  p.extracted ->> 'instrument'                                         AS instrument_name,
  p.data_type                                                          AS ferry_data_type,
  p.published_at                                                       AS ferry_published_at
FROM products p
WHERE p.status = 'published';

-- Down Migration
CREATE OR REPLACE VIEW ivoa.obscore AS
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
