import http from 'node:http';
import { presentProductDetail } from '../../services/api/routes/product.presenter';
import { findProductDetail } from '../../services/core/repositories/product-detail.repository';
import { floorDeps } from './floor-deps';

// The floor-server's read without Express: node:http alone, the same Redis counter, the same
// prepared statement and presenter. What the read costs with no framework at all. Prints its port.
const { pool, hit } = floorDeps();
const server = http
  .createServer((req, res) => {
    const dataId = decodeURIComponent((req.url ?? '').slice('/api/products/'.length));
    void (async () => {
      await hit();
      const detail = await findProductDetail(pool, dataId);
      const body = JSON.stringify(detail ? presentProductDetail(detail) : { error: { code: 'product_not_found' } });
      res.writeHead(detail ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    })();
  })
  .listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
