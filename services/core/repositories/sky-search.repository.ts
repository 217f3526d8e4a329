import type { Queryable } from '../db/pool';
import type { ProductStatus } from './product.types';

/** A cone on the sky: centre and radius in degrees. */
export interface Cone {
  ra: number;
  dec: number;
  radius: number;
}

export interface SkySearchFilter {
  /** Observation overlapping [since, until] (either end may be open). */
  obsSince?: Date;
  obsUntil?: Date;
  cone?: Cone;
  status?: ProductStatus;
  data_type?: string;
  /** Keyset position: rows strictly after (obs_start, id). */
  after?: { obs_start: string; id: number };
  limit: number;
}

/** A found product: the registry row's public fields plus where and when it observed. */
export interface SkySearchRow {
  id: number;
  data_id: string;
  data_type: string;
  status: ProductStatus;
  published_path: string | null;
  obs_start: Date;
  obs_end: Date | null;
  ra_deg: number | null;
  dec_deg: number | null;
  freq_hz: number | null;
  distance_deg: number | null;
  obs_start_exact: string;
}

/** Unit vector of (ra, dec) in degrees: the same formula as the products.sky generated column. */
export function unitVector(ra: number, dec: number): [number, number, number] {
  const r = (ra * Math.PI) / 180;
  const d = (dec * Math.PI) / 180;
  return [Math.cos(d) * Math.cos(r), Math.cos(d) * Math.sin(r), Math.sin(d)];
}

/**
 * Products by observation time and sky position, ordered by (obs_start, id). The time range uses
 * the GiST index on obs_range (overlap), the cone the GiST index on sky: a bounding cube of the
 * chord 2·sin(r/2) around the centre's unit vector, then the exact chord distance (a chord grows
 * with the angle, so chord ≤ 2·sin(r/2) ⇔ separation ≤ r). Only products with an observation time.
 */
export async function searchProducts(db: Queryable, f: SkySearchFilter): Promise<SkySearchRow[]> {
  const where: string[] = ['obs_range IS NOT NULL'];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  let distance = 'NULL::double precision';
  if (f.obsSince || f.obsUntil) {
    where.push(`obs_range && tstzrange(${arg(f.obsSince ?? null)}::timestamptz, ${arg(f.obsUntil ?? null)}::timestamptz, '[]')`);
  }
  if (f.cone) {
    const [x, y, z] = unitVector(f.cone.ra, f.cone.dec);
    const chord = 2 * Math.sin((Math.min(f.cone.radius, 180) * Math.PI) / 360);
    const [px, py, pz, c] = [arg(x), arg(y), arg(z), arg(chord)];
    const centre = `cube(ARRAY[${px}::float8, ${py}::float8, ${pz}::float8])`;
    where.push('sky IS NOT NULL');
    where.push(`sky <@ cube(ARRAY[${px}::float8 - ${c}::float8, ${py}::float8 - ${c}::float8, ${pz}::float8 - ${c}::float8],
                             ARRAY[${px}::float8 + ${c}::float8, ${py}::float8 + ${c}::float8, ${pz}::float8 + ${c}::float8])`);
    where.push(`(sky <-> ${centre}) <= ${c}::float8`);
    distance = `degrees(2 * asin(least(1.0, (sky <-> ${centre}) / 2)))`;
  }
  if (f.status) where.push(`status = ${arg(f.status)}`);
  if (f.data_type) where.push(`data_type = ${arg(f.data_type)}`);
  if (f.after) where.push(`(obs_start, id) > (${arg(f.after.obs_start)}::timestamptz, ${arg(f.after.id)}::bigint)`);
  const sql = `SELECT id, data_id, data_type, status, published_path, obs_start, obs_end, ra_deg, dec_deg, freq_hz,
                      ${distance} AS distance_deg,
                      to_char(obs_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS obs_start_exact
                 FROM products WHERE ${where.join(' AND ')}
                ORDER BY obs_start, id LIMIT ${arg(f.limit)}`;
  return (await db.query<SkySearchRow>(sql, args)).rows;
}
