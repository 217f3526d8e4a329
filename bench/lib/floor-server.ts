import express from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { presentProductDetail } from '../../services/api/routes/product.presenter';
import { findProductDetail } from '../../services/core/repositories/product-detail.repository';

// The floor under GET /api/products/{id}: what any implementation of that read pays on this stack
// (Express, ioredis, pg, behind the same nginx), with none of Ferry's middleware. Per request one
// Redis round trip (a shared per-client counter, as a rate limit across replicas needs), the same
// prepared PostgreSQL statement on Ferry's database and the same JSON answer. Prints its port.
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.defineCommand('hit', {
  numberOfKeys: 1,
  lua: `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {n, redis.call('PTTL', KEYS[1])}`,
});
const hit = (redis as unknown as { hit(key: string, ms: number): Promise<[number, number]> }).hit.bind(redis);
const key = `${process.env.REDIS_PREFIX ?? 'ferry-bench'}:floor`;

const server = express()
  .get('/api/products/:id', async (req, res) => {
    await hit(key, 60000);
    const detail = await findProductDetail(pool, req.params.id);
    if (!detail) {
      res.status(404).json({ error: { code: 'product_not_found' } });
      return;
    }
    res.json(presentProductDetail(detail));
  })
  .listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
process.on('SIGTERM', () => server.close(() => void Promise.all([pool.end(), redis.quit()]).then(() => process.exit(0))));
