import { createTestDatabase, planWithoutSeqScans, type TestDatabase } from '../../../test/support/database';
import { seededRandom } from '../../../test/support/seeded-random';
import { searchProducts, type Cone } from './sky-search.repository';

jest.setTimeout(120_000);

const N = 20_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;

interface Seeded { data_id: string; ra: number | null; dec: number | null; start: number; end: number }

/** Great-circle separation in degrees (haversine): the brute force the index must agree with. */
function separation(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((dec2 - dec1) * r) / 2) ** 2 + Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(((ra2 - ra1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / r;
}

describe('search by observation time and cone', () => {
  let db: TestDatabase;
  const rows: Seeded[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const rand = seededRandom(17);
    for (let i = 0; i < N; i++) {
      // Uniform on the sphere, a few without a position; some near the poles and RA 0/360.
      const positioned = i % 50 !== 0;
      const ra = positioned ? rand() * 360 : null;
      const dec = positioned ? (Math.asin(2 * rand() - 1) * 180) / Math.PI : null;
      const start = T0 + Math.floor(rand() * 30 * DAY);
      rows.push({ data_id: `p${i}`, ra, dec, start, end: start + Math.floor(rand() * 3_600_000) });
    }
    await db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, ra_deg, dec_deg, obs_start, obs_end)
       SELECT d, 'image', d || '.fits', d || '.fits', 'file', 'published', ra, dec, to_timestamp(s / 1000.0), to_timestamp(e / 1000.0)
         FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[]) AS u(d, ra, dec, s, e)`,
      [rows.map((r) => r.data_id), rows.map((r) => r.ra), rows.map((r) => r.dec), rows.map((r) => r.start), rows.map((r) => r.end)],
    );
    await db.pool.query('ANALYZE products');
  });
  afterAll(() => db.drop());

  const ids = (list: { data_id: string }[]) => list.map((r) => r.data_id).sort();

  it('returns exactly what a brute-force scan returns, for cones anywhere on the sky', async () => {
    const cones: Cone[] = [
      { ra: 10, dec: 20, radius: 5 }, { ra: 359.9, dec: 0, radius: 3 }, { ra: 0.1, dec: -30, radius: 8 }, { ra: 123, dec: 89.5, radius: 4 },
      { ra: 250, dec: -88, radius: 6 }, { ra: 180, dec: 45, radius: 0.5 }, { ra: 77, dec: -12, radius: 30 }, { ra: 300, dec: 60, radius: 90 },
    ];
    let matched = 0;
    for (const cone of cones) {
      const got = await searchProducts(db.pool, { cone, limit: N });
      const want = rows.filter((r) => r.ra !== null && separation(cone.ra, cone.dec, r.ra, r.dec!) <= cone.radius);
      expect({ cone, ids: ids(got) }).toEqual({ cone, ids: ids(want) });
      for (const g of got) expect(g.distance_deg!).toBeLessThanOrEqual(cone.radius + 1e-9);
      matched += want.length;
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it('returns exactly the products whose observation overlaps a time range, alone and with a cone', async () => {
    const since = new Date(T0 + 3.5 * DAY);
    const until = new Date(T0 + 4.25 * DAY);
    const want = rows.filter((r) => r.start <= until.getTime() && r.end >= since.getTime());
    expect(ids(await searchProducts(db.pool, { obsSince: since, obsUntil: until, limit: N }))).toEqual(ids(want));
    expect(want.length).toBeGreaterThan(100);
    const cone = { ra: 200, dec: 10, radius: 40 };
    const both = want.filter((r) => r.ra !== null && separation(cone.ra, cone.dec, r.ra, r.dec!) <= cone.radius);
    expect(ids(await searchProducts(db.pool, { obsSince: since, obsUntil: until, cone, limit: N }))).toEqual(ids(both));
    const open = rows.filter((r) => r.end >= T0 + 29 * DAY);
    expect(ids(await searchProducts(db.pool, { obsSince: new Date(T0 + 29 * DAY), limit: N }))).toEqual(ids(open));
  });

  it('pages in observation order without gaps or repeats', async () => {
    const cone = { ra: 77, dec: -12, radius: 30 };
    const all = await searchProducts(db.pool, { cone, limit: N });
    const seen: string[] = [];
    let after: { obs_start: string; id: number } | undefined;
    for (;;) {
      const page = await searchProducts(db.pool, { cone, after, limit: 97 });
      seen.push(...page.map((r) => r.data_id));
      if (page.length < 97) break;
      const last = page[page.length - 1]!;
      after = { obs_start: last.obs_start_exact, id: last.id };
    }
    expect(seen).toEqual(all.map((r) => r.data_id));
  });

  it('answers cones and time ranges from their GiST indexes', async () => {
    const plan = (where: string) => planWithoutSeqScans(db.pool, `SELECT id FROM products WHERE ${where}`);
    const cone = `obs_range IS NOT NULL AND sky IS NOT NULL AND sky <@ cube(ARRAY[0.1,0.2,0.3]::float8[], ARRAY[0.2,0.3,0.4]::float8[])`;
    const window = `obs_range && tstzrange('2026-01-02', '2026-01-03', '[]')`;
    expect(await plan(cone)).toMatch(/products_sky_obs_idx/);
    expect(await plan(`obs_range IS NOT NULL AND ${window}`)).toMatch(/products_obs_range_idx/);
    // A cone with a time window: both conditions inside the one index, so no heap page is read
    // for a product in the cone but outside the window.
    expect(await plan(`${cone} AND ${window}`)).toMatch(/Index Scan using products_sky_obs_idx on products[^\n]*\s+Index Cond: \(\(sky <@ [^\n]+\) AND \(obs_range && [^\n]+\)\)/);
  });
});
