import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { seedProduct } from '../../../test/support/products';
import type { Queryable } from '../db/pool';
import { PREFIX_RECENT_WINDOW, searchProducts, type ProductSearch } from './product-search.repository';

// The console's products search: results newest first with keyset pages, and a plan that is a
// bounded index range for every filter (sequential scans priced out, as on a large registry).

let db: TestDatabase;

/** The statement searchProducts sends for this filter, with its real parameters. */
async function statementOf(f: ProductSearch): Promise<{ sql: string; args: unknown[] }> {
  let captured: { sql: string; args: unknown[] } | undefined;
  const spy: Queryable = { query: ((sql: string, args: unknown[]) => {
    captured = { sql, args };
    return Promise.resolve({ rows: [] });
  }) as unknown as Queryable['query'] };
  await searchProducts(spy, f);
  return captured!;
}

/** The plan of the statement searchProducts sends for this filter, with its real parameters. */
async function planOf(pool: Pool, f: ProductSearch): Promise<string> {
  const captured = await statementOf(f);
  const client = await pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const res = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured.sql}`, captured.args);
    return res.rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 30; i++) {
    await seedProduct(db.pool, {
      data_id: `obs-${String(i).padStart(2, '0')}`, data_type: i % 2 ? 'image' : 'ms', status: i % 3 ? 'published' : 'failed',
      error_class: i % 3 ? null : 'checksum_mismatch', created_at: new Date(t0 + i * 1000),
    });
  }
  await db.pool.query(`UPDATE products SET metadata = jsonb_build_object('field', CASE WHEN id % 5 = 0 THEN '3C286' ELSE 'other' END)`);
  await db.pool.query('ANALYZE products');
});

afterAll(async () => {
  await db.drop();
});

describe('searchProducts', () => {
  it('returns products newest first and pages by keyset without gaps or repeats', async () => {
    const first = await searchProducts(db.pool, { limit: 10 });
    expect(first.map((r) => r.data_id)).toEqual(Array.from({ length: 10 }, (_, i) => `obs-${29 - i}`));
    const last = first[9]!;
    const next = await searchProducts(db.pool, { limit: 10, before: { created_at: last.created_at_exact, id: last.id } });
    expect(next.map((r) => r.data_id)).toEqual(Array.from({ length: 10 }, (_, i) => `obs-${19 - i}`));
  });

  it('combines state, type, error class, prefix, metadata and time range', async () => {
    const rows = await searchProducts(db.pool, {
      status: 'failed', data_type: 'ms', error_class: 'checksum_mismatch', data_id_prefix: 'obs-1', limit: 50,
      created_since: new Date('2026-01-01T00:00:10Z'), created_until: new Date('2026-01-01T00:00:20Z'),
    });
    expect(rows.map((r) => r.data_id)).toEqual(['obs-18', 'obs-12']);
    const meta = await searchProducts(db.pool, { metadata: { field: '3C286' }, limit: 50 });
    expect(meta.length).toBe(6);
  });

  it('treats LIKE wildcards in the data_id prefix as literal characters', async () => {
    expect(await searchProducts(db.pool, { data_id_prefix: 'obs_', limit: 50 })).toEqual([]);
    expect(await searchProducts(db.pool, { data_id_prefix: '%', limit: 50 })).toEqual([]);
  });
});

describe('searchProducts plans on a 50,000-product registry', () => {
  let big: TestDatabase;
  beforeAll(async () => {
    big = await createTestDatabase();
    await big.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, error_class, metadata, created_at)
       SELECT 'p-' || g, (ARRAY['image','mosaic','caltable','ms'])[1 + g % 4], 'p/' || g, 'p/' || g, 'file',
              (CASE WHEN g % 100 = 0 THEN 'failed' ELSE 'published' END)::product_status,
              CASE WHEN g % 100 = 0 THEN (ARRAY['checksum_mismatch','source_missing'])[1 + g % 2] END,
              jsonb_build_object('field', 'f' || (g % 500)), now() - make_interval(secs => 50000 - g)
         FROM generate_series(1, 50000) AS g`,
    );
    // ANALYZE reads a random sample of 300 rows per unit of statistics target: at 1,000 it reads
    // all 50,000, so the estimates (and the costs asserted below) are the same on every run.
    await big.pool.query('ALTER TABLE products ALTER COLUMN data_id SET STATISTICS 1000');
    await big.pool.query('VACUUM ANALYZE products');
  });
  afterAll(async () => {
    await big.drop();
  });

  /** The planner's estimated cost of the first page (the top node's total: a Limit, or the prefix page's Sort). */
  const pageCost = (plan: string) => Number(/^\w[\w ]*\s+\(cost=[\d.]+\.\.([\d.]+)/.exec(plan)?.[1] ?? Infinity);

  it.each<[string, Omit<ProductSearch, 'limit'>]>([
    ['no filter', {}],
    ['a state', { status: 'failed' }],
    ['a data type', { data_type: 'ms' }],
    ['an error class', { error_class: 'checksum_mismatch' }],
    ['a keyset position', { before: { created_at: new Date(Date.now() - 1000).toISOString(), id: 49000 } }],
    ['a data_id prefix', { data_id_prefix: 'p-123' }],
    ['a metadata key=value', { metadata: { field: 'f7' } }],
    ['a time range', { created_since: new Date(Date.now() - 3600_000), created_until: new Date(Date.now() - 1800_000) }],
  ])('pages %s through an index at a bounded cost, never a sequential scan or a sort of the table', async (_name, f) => {
    const plan = await planOf(big.pool, { ...f, limit: 51 });
    expect(plan).toMatch(/Index|Bitmap/);
    expect(plan).not.toMatch(/Seq Scan/);
    // Walking a whole index of the 50,000 rows costs 3,600 before any sort (and a sequential scan,
    // switched off here, ten billion); one page off an index costs tens, and the prefix page, which
    // fetches each of its candidate rows by id, about 560.
    expect(pageCost(plan)).toBeLessThan(1500);
  });

  /** The executed plan of a statement, and the rows its scans read and threw away (filtered out). */
  async function executed(sql: string, args: unknown[]): Promise<{ plan: string; discarded: number }> {
    const res = await big.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`, args);
    const plan = res.rows.map((r) => r['QUERY PLAN']).join('\n');
    return { plan, discarded: [...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0) };
  }

  /** The page a plain filter of the newest-first order gives: the result every prefix search must equal. */
  async function reference(prefix: string, f: { status?: string; before?: { created_at: string; id: number } }, limit: number): Promise<string[]> {
    const res = await big.pool.query<{ data_id: string }>(
      `SELECT data_id FROM products WHERE starts_with(data_id, $1) AND ($2::product_status IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::bigint))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [prefix, f.status ?? null, f.before?.created_at ?? null, f.before?.id ?? null, limit],
    );
    return res.rows.map((r) => r.data_id);
  }

  // `p-1` matches 11,111 products, the newest of them (p-19999) 30,001 rows back in newest-first order.
  it('pages a data_id prefix whose matches are all old from the prefix index, not by walking every newer row', async () => {
    const { sql, args } = await statementOf({ data_id_prefix: 'p-1', limit: 51 });
    const { plan, discarded } = await executed(sql, args);
    expect(plan).toMatch(/Index Only Scan using products_data_id_pattern_idx/);
    // At most the newest window is looked through before the prefix index answers.
    expect(discarded).toBeLessThanOrEqual(PREFIX_RECENT_WINDOW);
  });

  it('the walk check can fail: the plain newest-first filter walks past the newer rows to find those matches', async () => {
    const { discarded } = await executed(
      `SELECT id FROM products WHERE data_id LIKE 'p-1%' ORDER BY created_at DESC, id DESC LIMIT 51`, [],
    );
    expect(discarded).toBeGreaterThan(30_000);
  });

  it('pages a broad data_id prefix from the newest rows without reading every match', async () => {
    const { sql, args } = await statementOf({ data_id_prefix: 'p-', limit: 51 });
    const { plan } = await executed(sql, args);
    expect(plan).toMatch(/Limit \(actual rows=51 loops=1\)/);
    expect(plan).toMatch(/Seq Scan[^\n]*\(never executed\)|Index Only Scan using products_data_id_pattern_idx[^\n]*\(never executed\)/);
  });

  it.each<[string, string, { status?: 'published' }]>([
    ['old matches', 'p-123', {}],
    ['recent matches', 'p-4999', {}],
    ['a broad prefix', 'p-', {}],
    ['old matches and a state', 'p-12', { status: 'published' }],
    ['no match', 'q-', {}],
  ])('gives exactly the plain filter\'s pages for %s, keyset page after page', async (_name, prefix, f) => {
    let before: { created_at: string; id: number } | undefined;
    for (let page = 0; page < 4; page++) {
      const rows = await searchProducts(big.pool, { ...f, data_id_prefix: prefix, before, limit: 50 });
      expect(rows.map((r) => r.data_id)).toEqual(await reference(prefix, { ...f, before }, 50));
      if (rows.length < 50) return;
      const last = rows[rows.length - 1]!;
      before = { created_at: last.created_at_exact, id: last.id };
    }
  });

  it('the cost check can fail: the same page without its indexes (a scan and sort of the table) costs far more', async () => {
    const client = await big.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('DROP INDEX products_status_created_idx, products_failed_idx, products_failed_attempts_idx, products_created_idx');
      const res = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT * FROM products WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 51`);
      expect(pageCost(res.rows.map((r) => r['QUERY PLAN']).join('\n'))).toBeGreaterThan(500);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
