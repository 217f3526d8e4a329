import express from 'express';
import { presentProductDetail } from '../../services/api/routes/product.presenter';
import { findProductDetail } from '../../services/core/repositories/product-detail.repository';
import { floorDeps } from './floor-deps';

// The floor under GET /api/products/{id}: what any implementation of that read pays on this stack
// (Express, ioredis, pg, behind the same nginx), with none of Ferry's middleware. Per request one
// Redis round trip (a shared per-client counter, as a rate limit across replicas needs), the same
// prepared PostgreSQL statement on Ferry's database and the same JSON answer. Prints its port.
const { pool, redis, hit } = floorDeps();
const server = express()
  .get('/api/products/:id', async (req, res) => {
    await hit();
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
