import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { stageProduct } from '../../../test/support/publish-fixtures';
import { loadConfig } from '../../core/config';
import { publishProduct } from '../../core/domain/publishing/publish-product';
import { createToken } from '../../core/domain/tokens/create-token';
import { enqueuePublish } from '../../core/jobs/publish-queue';
import { testEnv } from '../../../test/support/env';

jest.setTimeout(60000);

describe('GET /api/monitoring/publish/reconcile', () => {
  let api: TestApi;
  const url = '/api/monitoring/publish/reconcile';
  beforeEach(async () => {
    api = await createTestApi();
  });
  afterEach(() => api.close());

  async function publishOne(rel: string, content: string | Record<string, string>, dataId: string) {
    await stageProduct(api.db.pool, api.roots.stageRoot, rel, content, { dataId });
    const config = loadConfig('worker', testEnv({ databaseUrl: api.db.url, redisPrefix: api.redisPrefix, stageRoot: api.roots.stageRoot, productsRoot: api.roots.productsRoot }, { PUBLISH_MODE: 'copy' }));
    const r = await publishProduct({ pool: api.db.pool, config }, dataId);
    expect(r.outcome).toBe('published');
  }

  it('answers 401 without a token', async () => {
    const res = await request(api.app).get(url);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toEqual(expect.any(String));
  });

  it('answers 403 to a read token', async () => {
    const { token } = await createToken({ db: api.db.pool }, { name: 'reader', scopes: ['read'] });
    const res = await request(api.app).get(url).set(authHeader(token));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/admin/);
  });

  it('reports nothing on a healthy system', async () => {
    await publishOne('ok/a.fits', 'a', 'a');
    await publishOne('ok/b.ms', { x: '1', 'y/z': '2' }, 'b');
    await stageProduct(api.db.pool, api.roots.stageRoot, 'queued.fits', 'q', { dataId: 'queued' });
    await enqueuePublish(api.deps.queue, 'queued');
    const res = await request(api.app).get(url).set(authHeader());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      healthy: true,
      counts: { orphan_temporaries: 0, published_missing: 0, published_size_mismatch: 0, files_without_row: 0, jobs_without_row: 0 },
      orphan_temporaries: [], published_missing: [], published_size_mismatch: [], files_without_row: [], jobs_without_row: [],
    });
  });

  it('names each kind of drift when seeded', async () => {
    const root = api.roots.productsRoot;
    await publishOne('gone.fits', 'gone', 'gone');
    await publishOne('shrunk.fits', 'long content', 'shrunk');
    await publishOne('dir.ms', { a: 'aaa', b: 'bbb' }, 'dir');
    await fs.rm(path.join(root, 'gone.fits'));
    await fs.writeFile(path.join(root, 'shrunk.fits'), 'short');
    await fs.rm(path.join(root, 'dir.ms/b'));
    await fs.mkdir(path.join(root, '.ferry-tmp/0b7e3c1e-1111-4222-8333-444455556666'), { recursive: true });
    await fs.writeFile(path.join(root, 'stray.fits'), 'who owns me');
    await fs.mkdir(path.join(root, 'unowned/deep'), { recursive: true });
    await fs.writeFile(path.join(root, 'unowned/deep/x'), '1');
    await api.deps.queue.add('publish-product', { data_id: 'phantom' }, { jobId: 'publish-phantom', delay: 60000 });

    const res = await request(api.app).get(url).set(authHeader());
    expect(res.status).toBe(200);
    expect(res.body.healthy).toBe(false);
    expect(res.body.orphan_temporaries).toEqual([{ name: '0b7e3c1e-1111-4222-8333-444455556666', path: path.join(root, '.ferry-tmp/0b7e3c1e-1111-4222-8333-444455556666') }]);
    expect(res.body.published_missing).toEqual([{ data_id: 'gone', path: 'gone.fits' }]);
    expect(res.body.published_size_mismatch).toEqual([
      { data_id: 'shrunk', path: 'shrunk.fits', expected_bytes: 12, actual_bytes: 5, expected_files: 1, actual_files: 1 },
      { data_id: 'dir', path: 'dir.ms', expected_bytes: 6, actual_bytes: 3, expected_files: 2, actual_files: 1 },
    ]);
    expect(res.body.files_without_row).toEqual(expect.arrayContaining([{ path: 'stray.fits', type: 'file' }, { path: 'unowned', type: 'directory' }]));
    expect(res.body.files_without_row).toHaveLength(2);
    expect(res.body.jobs_without_row).toEqual([{ job_id: 'publish-phantom', state: 'delayed' }]);
    expect(res.body.counts).toEqual({ orphan_temporaries: 1, published_missing: 1, published_size_mismatch: 2, files_without_row: 2, jobs_without_row: 1 });
  });
});
