import type { Pool } from 'pg';

/**
 * Inserts products [from, to) straight into the registry, as a long-running Ferry would hold them:
 * 97 % published, 2 % staging, 1 % failed, one attempt-ending event each (so the success rate
 * covers all of them). The per-row count triggers are set aside for the bulk load and the counts
 * rebuilt in one statement each.
 */
export async function seedProducts(pool: Pool, from: number, to: number): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('ALTER TABLE products DISABLE TRIGGER USER');
    await c.query('ALTER TABLE product_events DISABLE TRIGGER USER');
    // Each product's latest outcome is kept by a per-statement trigger: one statement here, so it stays on.
    await c.query('ALTER TABLE product_events ENABLE TRIGGER product_events_keep_latest_outcomes');
    await c.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, published_path, kind, status, size_bytes,
                             file_count, checksum_sha256, publish_attempts, publish_error, error_class,
                             created_at, staged_at, published_at, updated_at, due_at)
       SELECT 'seed-' || g, (ARRAY['image','mosaic','caltable','ms'])[1 + g % 4], 'seed/' || g || '.fits', 'seed/' || g || '.fits',
              CASE WHEN g % 50 = 0 THEN NULL ELSE 'seed/' || g || '.fits' END, 'file',
              (CASE WHEN g % 100 = 0 THEN 'failed' WHEN g % 50 = 0 THEN 'staging' ELSE 'published' END)::product_status,
              65536, 1, md5(g::text) || md5(g::text), CASE WHEN g % 100 = 0 THEN 5 ELSE 1 END,
              CASE WHEN g % 100 = 0 THEN 'checksum mismatch' END, CASE WHEN g % 100 = 0 THEN 'checksum_mismatch' END,
              t, t, CASE WHEN g % 50 <> 0 THEN t END, t, CASE WHEN g % 50 = 0 AND g % 100 <> 0 THEN now() END
         FROM generate_series($1::int, $2::int - 1) AS g,
              LATERAL (SELECT now() - make_interval(secs => $2::int - g) AS t) AS tt`,
      [from, to],
    );
    await c.query(
      `INSERT INTO product_events (product_id, data_id, event, attempt, from_status, to_status, bytes, created_at, ends_attempt)
       SELECT id, data_id, CASE status WHEN 'failed' THEN 'failed' ELSE 'published' END, publish_attempts, 'publishing', status, 65536, updated_at, true
         FROM products WHERE id > COALESCE((SELECT max(product_id) FROM product_events), 0) AND status <> 'staging'`,
    );
    await c.query('ALTER TABLE products ENABLE TRIGGER USER');
    await c.query('ALTER TABLE product_events ENABLE TRIGGER USER');
    await c.query('DELETE FROM product_status_counts');
    // The same shards the trigger keeps (migration status-count-shards): one row per (type, status, id % 64).
    await c.query('INSERT INTO product_status_counts (data_type, status, shard, count) SELECT data_type, status, id % 64, count(*) FROM products GROUP BY 1, 2, 3');
    await c.query('COMMIT');
    // Vacuumed as autovacuum keeps an old registry, so index-only scans see an up-to-date visibility map.
    await c.query('VACUUM (ANALYZE) products');
    await c.query('VACUUM (ANALYZE) product_events');
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    c.release();
  }
}
