import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { parseExposition } from '../../../test/support/prometheus';

describe('operator retries in the api metrics', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
    await api.db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, publish_attempts, error_class)
       VALUES ('f1', 'image', 'f1', 'f1', 'file', 'failed', 5, 'io_error'), ('f2', 'image', 'f2', 'f2', 'file', 'failed', 5, 'io_error'),
              ('f3', 'image', 'f3', 'f3', 'file', 'failed', 5, 'io_error')`,
    );
  });
  afterAll(() => api.close());

  const operatorRetries = async () =>
    parseExposition(await api.deps.metrics.registry.metrics()).get('ferry_publish_retries_total{trigger="operator",service="ferry-api"}') ?? 0;

  it('counts a retry of one failed product, and each product retry-all queued', async () => {
    expect(await operatorRetries()).toBe(0);
    const one = await request(api.app).post('/api/monitoring/publish/retry/f1').set(authHeader());
    expect(one.body).toMatchObject({ retried: true });
    expect(await operatorRetries()).toBe(1);
    // Retrying a product already on its way changes nothing and counts nothing.
    await request(api.app).post('/api/monitoring/publish/retry/f1').set(authHeader());
    expect(await operatorRetries()).toBe(1);
    const all = await request(api.app).post('/api/monitoring/publish/retry-all').set(authHeader());
    expect(all.body).toMatchObject({ successful: 2 });
    expect(await operatorRetries()).toBe(3);
  });
});
