import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { authHeader, createTestApi, type TestApi } from '../../../test/support/api';
import { writeFile } from '../../../test/support/dirs';
import { registryCounts, seedProduct } from '../../../test/support/products';
import { publishJobId } from '../../core/jobs/publish-queue';

describe('products routes', () => {
  let t: TestApi;
  let stage: string;

  beforeAll(async () => {
    t = await createTestApi();
    stage = t.roots.stageRoot;
  });
  afterAll(() => t.close());

  /** Registry rows, events and queued jobs: a refused request must leave all three unchanged. */
  async function snapshot() {
    const counts = await t.deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    return { ...(await registryCounts(t.db.pool)), jobs: Object.values(counts).reduce((a, b) => a + b, 0) };
  }

  const register = (body: unknown) => request(t.app).post('/api/products').set(authHeader()).send(body as object);

  /** Sends a registration that must be refused, and asserts status, code and that nothing was written. */
  async function expectRefused(body: unknown, status: number, code: string) {
    const before = await snapshot();
    const res = await register(body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String), ...(res.body.error?.details ? { details: expect.anything() } : {}) } });
    expect(await snapshot()).toEqual(before);
    return res;
  }

  describe('POST /api/products', () => {
    it('registers a file product: 201, the row, its event, and a queued job', async () => {
      await writeFile(stage, 'mosaics/mosaic_group_abc123.fits', 'x'.repeat(100));
      const res = await register({
        data_id: 'mosaic_abc123', data_type: 'mosaic', stage_path: 'mosaics/mosaic_group_abc123.fits',
        expected_sha256: 'A'.repeat(64), metadata: { group: 'abc123' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        data_id: 'mosaic_abc123',
        data_type: 'mosaic',
        stage_path: 'mosaics/mosaic_group_abc123.fits',
        destination_path: 'mosaics/mosaic_group_abc123.fits',
        published_path: null,
        kind: 'file',
        status: 'staging',
        size_bytes: 100,
        file_count: 1,
        checksum_sha256: null,
        expected_sha256: 'a'.repeat(64),
        publish_attempts: 0,
        publish_error: null,
        error_class: null,
        lease_owner: null,
        lease_expires_at: null,
        metadata: { group: 'abc123' },
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        staged_at: expect.stringMatching(/Z$/),
        published_at: null,
        updated_at: expect.stringMatching(/Z$/),
        next_attempt_at: expect.stringMatching(/Z$/),
        held: false,
        retracted_path: null,
        supersedes: null,
      });
      const events = await t.db.pool.query("SELECT event, from_status, to_status FROM product_events WHERE data_id = 'mosaic_abc123'");
      expect(events.rows).toEqual([{ event: 'registered', from_status: null, to_status: 'staging' }]);
      const job = await t.deps.queue.getJob(publishJobId('mosaic_abc123'));
      expect(job?.data).toEqual({ data_id: 'mosaic_abc123' });
    });

    it('registers a directory product with its total size and file count, from an absolute path', async () => {
      await writeFile(stage, 'ms/obs1.ms/table.dat', '12345');
      await writeFile(stage, 'ms/obs1.ms/sub/part.bin', '123');
      const res = await register({ data_id: 'obs1', data_type: 'ms', stage_path: path.join(stage, 'ms/obs1.ms') });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ kind: 'directory', size_bytes: 8, file_count: 2, stage_path: 'ms/obs1.ms', status: 'staging' });
    });

    it('returns the existing product with 200 when the identical product is registered again, writing nothing', async () => {
      await writeFile(stage, 'img/again.fits', 'abc');
      const body = { data_id: 'again', data_type: 'image', stage_path: 'img/again.fits', metadata: { a: 1, b: { c: 2 } } };
      const first = await register(body);
      expect(first.status).toBe(201);
      const before = await snapshot();
      const second = await register({ ...body, stage_path: path.join(stage, 'img/again.fits'), metadata: { b: { c: 2 }, a: 1 } });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await snapshot()).toEqual(before);
    });

    it('still answers 200 for the identical product once its source has moved away (published by move)', async () => {
      await writeFile(stage, 'img/moved.fits', 'abc');
      const body = { data_id: 'moved', data_type: 'image', stage_path: 'img/moved.fits' };
      expect((await register(body)).status).toBe(201);
      await fs.rm(path.join(stage, 'img/moved.fits'));
      const before = await snapshot();
      const again = await register(body);
      expect(again.status).toBe(200);
      expect(again.body.data_id).toBe('moved');
      expect(await snapshot()).toEqual(before);
    });

    it('holds a product registered with auto_publish false: not queued, not due', async () => {
      await writeFile(stage, 'img/held.fits', 'abc');
      const res = await register({ data_id: 'held', data_type: 'image', stage_path: 'img/held.fits', auto_publish: false });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'staging', next_attempt_at: null });
      expect(await t.deps.queue.getJob(publishJobId('held'))).toBeUndefined();
    });

    it('answers 409 data_id_conflict when the data_id holds different content', async () => {
      await writeFile(stage, 'img/other.fits', 'abc');
      const res = await expectRefused({ data_id: 'mosaic_abc123', data_type: 'mosaic', stage_path: 'img/other.fits' }, 409, 'data_id_conflict');
      expect(res.body.error.message).toMatch(/stage_path/);
      expect(res.body.error.details).toEqual({ fields: ['expected_sha256', 'metadata', 'stage_path'] });
    });

    it('answers 409 destination_conflict when another product publishes to the same path', async () => {
      const res = await expectRefused({ data_id: 'copycat', data_type: 'mosaic', stage_path: 'mosaics/mosaic_group_abc123.fits' }, 409, 'destination_conflict');
      expect(res.body.error.message).toContain('mosaic_abc123');
    });

    it('answers 409 destination_conflict for a path inside another product\'s directory', async () => {
      const res = await expectRefused({ data_id: 'inner', data_type: 'ms', stage_path: 'ms/obs1.ms/table.dat' }, 409, 'destination_conflict');
      expect(res.body.error.details).toEqual({ data_id: 'obs1', destination_path: 'ms/obs1.ms' });
    });

    it('answers 409 destination_conflict for a directory that contains another product', async () => {
      await expectRefused({ data_id: 'outer', data_type: 'mosaic', stage_path: 'mosaics' }, 409, 'destination_conflict');
    });

    it('answers 422 unknown_data_type listing the allowed types', async () => {
      const res = await expectRefused({ data_id: 'u1', data_type: 'spectrum', stage_path: 'img/other.fits' }, 422, 'unknown_data_type');
      expect(res.body.error.message).toContain('image, mosaic, caltable, ms');
      expect(res.body.error.details).toEqual({ allowed: ['image', 'mosaic', 'caltable', 'ms'] });
    });

    it('answers 400 path_outside_stage_root for a `..` escape', async () => {
      await writeFile(t.roots.base, 'secret.fits', 'abc');
      await expectRefused({ data_id: 'esc1', data_type: 'image', stage_path: '../secret.fits' }, 400, 'path_outside_stage_root');
    });

    it('answers 400 path_outside_stage_root for an absolute path outside STAGE_ROOT', async () => {
      await expectRefused({ data_id: 'esc2', data_type: 'image', stage_path: path.join(t.roots.base, 'secret.fits') }, 400, 'path_outside_stage_root');
    });

    it('answers 400 path_outside_stage_root for a symlink that leads outside', async () => {
      await fs.symlink(path.join(t.roots.base, 'secret.fits'), path.join(stage, 'link.fits'));
      await expectRefused({ data_id: 'esc3', data_type: 'image', stage_path: 'link.fits' }, 400, 'path_outside_stage_root');
    });

    it('accepts a name with two dots in it', async () => {
      await writeFile(stage, 'img/a..b.fits', 'abc');
      const res = await register({ data_id: 'dots', data_type: 'image', stage_path: 'img/a..b.fits' });
      expect(res.status).toBe(201);
      expect(res.body.stage_path).toBe('img/a..b.fits');
    });

    it('answers 400 invalid_stage_path for a NUL byte', async () => {
      await expectRefused({ data_id: 'nul', data_type: 'image', stage_path: 'img/a\u0000.fits' }, 400, 'invalid_stage_path');
    });

    it('answers 400 invalid_stage_path for a control character', async () => {
      await expectRefused({ data_id: 'ctl', data_type: 'image', stage_path: 'img/a\nb.fits' }, 400, 'invalid_stage_path');
    });

    it('answers 400 invalid_stage_path for an over-long name', async () => {
      await expectRefused({ data_id: 'long', data_type: 'image', stage_path: `img/${'x'.repeat(300)}.fits` }, 400, 'invalid_stage_path');
    });

    it('answers 422 source_missing for a path that does not exist', async () => {
      await expectRefused({ data_id: 'missing', data_type: 'image', stage_path: 'img/nothing.fits' }, 422, 'source_missing');
    });

    it('answers 422 source_empty for an empty file', async () => {
      await writeFile(stage, 'img/empty.fits', '');
      await expectRefused({ data_id: 'empty', data_type: 'image', stage_path: 'img/empty.fits' }, 422, 'source_empty');
    });

    it('answers 422 source_not_regular for a directory holding a symlink', async () => {
      await writeFile(stage, 'withlink/a.bin', 'abc');
      await fs.symlink('a.bin', path.join(stage, 'withlink/b.bin'));
      await expectRefused({ data_id: 'withlink', data_type: 'image', stage_path: 'withlink' }, 422, 'source_not_regular');
    });

    it('answers 400 validation_error naming data_id when it holds a ":" or "/"', async () => {
      for (const bad of ['a:b', 'a/b', '-start', '']) {
        const res = await expectRefused({ data_id: bad, data_type: 'image', stage_path: 'img/other.fits' }, 400, 'validation_error');
        expect(res.body.error.message).toMatch(/^data_id: .*no ":" or "\/"/);
      }
    });

    it('answers 400 validation_error naming an unknown field and a missing one', async () => {
      const res = await expectRefused({ data_id: 'x1', data_type: 'image', stagepath: 'img/other.fits' }, 400, 'validation_error');
      expect(res.body.error.message).toContain('stage_path');
      expect(res.body.error.message).toContain('stagepath: is not a known field');
    });

    it('answers 400 malformed_json for broken JSON', async () => {
      const before = await snapshot();
      const res = await request(t.app).post('/api/products').set(authHeader()).set('Content-Type', 'application/json').send('{"data_id": ');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'malformed_json', message: expect.stringContaining('not valid JSON') } });
      expect(await snapshot()).toEqual(before);
    });

    it('answers 415 unsupported_media_type for a body that is not JSON', async () => {
      const before = await snapshot();
      const res = await request(t.app).post('/api/products').set(authHeader()).set('Content-Type', 'text/plain').send('data_id=x');
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ error: { code: 'unsupported_media_type', message: expect.stringContaining('application/json') } });
      expect(await snapshot()).toEqual(before);
    });

    it('answers 413 payload_too_large for a body over 1 MiB', async () => {
      const before = await snapshot();
      const res = await register({ data_id: 'big', data_type: 'image', stage_path: 'img/other.fits', metadata: { blob: 'x'.repeat(1024 * 1024) } });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.stringContaining('1 MiB') } });
      expect(await snapshot()).toEqual(before);
    });

    it('answers 401 without a token, writing nothing', async () => {
      const before = await snapshot();
      const res = await request(t.app).post('/api/products').send({ data_id: 'anon', data_type: 'image', stage_path: 'img/other.fits' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(await snapshot()).toEqual(before);
    });

    it('registers once when the same product arrives twice at the same moment: one 201, one 200', async () => {
      await writeFile(stage, 'race/same.fits', 'abc');
      const body = { data_id: 'race_same', data_type: 'image', stage_path: 'race/same.fits' };
      const statuses = (await Promise.all([register(body), register(body), register(body)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 201]);
      expect((await t.db.pool.query("SELECT count(*)::int AS n FROM products WHERE data_id = 'race_same'")).rows[0].n).toBe(1);
    });

    it('lets only one of two concurrent products claim nested destinations: one 201, one 409', async () => {
      await writeFile(stage, 'race/dir/inner.fits', 'abc');
      const [a, b] = await Promise.all([
        register({ data_id: 'race_dir', data_type: 'ms', stage_path: 'race/dir' }),
        register({ data_id: 'race_inner', data_type: 'image', stage_path: 'race/dir/inner.fits' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      const loser = a.status === 409 ? a : b;
      expect(loser.body.error.code).toBe('destination_conflict');
      expect((await t.db.pool.query("SELECT count(*)::int AS n FROM products WHERE data_id IN ('race_dir', 'race_inner')")).rows[0].n).toBe(1);
    });
  });

  describe('GET /api/products', () => {
    let t2: TestApi;
    beforeAll(async () => {
      t2 = await createTestApi();
      // 130 rows; one INSERT gives many the same created_at, so the keyset must break ties by id.
      await t2.db.pool.query(
        `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, created_at)
         SELECT 'p' || lpad(i::text, 3, '0'), CASE WHEN i % 2 = 0 THEN 'image' ELSE 'mosaic' END, 'p' || i, 'p' || i, 'file',
                CASE WHEN i % 10 = 0 THEN 'failed'::product_status ELSE 'staging'::product_status END,
                timestamptz '2026-01-01T00:00:00.123456Z' + ((i / 40) || ' hours')::interval
           FROM generate_series(1, 130) AS i`,
      );
    });
    afterAll(() => t2.close());

    const list = (query: Record<string, string | number>) => request(t2.app).get('/api/products').set(authHeader()).query(query);

    it('walks every row exactly once, in order, across pages of 50', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await list(cursor ? { limit: 50, cursor } : { limit: 50 });
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['next_cursor', 'products']);
        seen.push(...res.body.products.map((p: { data_id: string }) => p.data_id));
        cursor = res.body.next_cursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 130 }, (_, i) => `p${String(i + 1).padStart(3, '0')}`));
    });

    it('uses a default page of 50', async () => {
      const res = await list({});
      expect(res.body.products).toHaveLength(50);
      expect(typeof res.body.next_cursor).toBe('string');
    });

    it('filters by status and data_type', async () => {
      const res = await list({ status: 'failed', data_type: 'image', limit: 500 });
      expect(res.body.products.map((p: { data_id: string }) => p.data_id)).toEqual(
        ['p010', 'p020', 'p030', 'p040', 'p050', 'p060', 'p070', 'p080', 'p090', 'p100', 'p110', 'p120', 'p130'],
      );
      expect(res.body.next_cursor).toBeNull();
    });

    it('filters by creation time: since inclusive, until exclusive', async () => {
      const res = await list({ created_since: '2026-01-01T01:00:00.123456Z', created_until: '2026-01-01T02:00:00Z', limit: 500 });
      const ids = res.body.products.map((p: { data_id: string }) => p.data_id);
      expect(ids[0]).toBe('p040');
      expect(ids[ids.length - 1]).toBe('p079');
      expect(ids).toHaveLength(40);
    });

    it('answers 400 invalid_cursor for a cursor it did not issue', async () => {
      const res = await list({ cursor: 'bm90LWEtY3Vyc29y' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_cursor', message: expect.stringContaining('next_cursor') } });
    });

    it('answers 400 validation_error for a limit above 500 and an unknown status', async () => {
      const res = await list({ limit: 501, status: 'lost' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.message).toMatch(/limit: .*500/);
      expect(res.body.error.message).toMatch(/status: /);
    });
  });

  describe('GET /api/products/{data_id}', () => {
    it('returns the product with its events', async () => {
      const res = await request(t.app).get('/api/products/mosaic_abc123').set(authHeader());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ data_id: 'mosaic_abc123', status: 'staging' });
      expect(res.body.events).toEqual([
        {
          id: expect.any(Number), event: 'registered', attempt: 0, from_status: null, to_status: 'staging', error_class: null,
          error: null, bytes: null, duration_ms: null, worker: null, actor: null, reason: null, detail: null, created_at: expect.stringMatching(/Z$/),
        },
      ]);
    });

    it('answers 404 product_not_found for an unknown data_id', async () => {
      const res = await request(t.app).get('/api/products/nope').set(authHeader());
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'product_not_found', message: expect.stringContaining('nope') } });
    });

    it('answers 400 validation_error for a data_id outside the charset', async () => {
      const res = await request(t.app).get('/api/products/a%3Ab').set(authHeader());
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_error', message: expect.stringMatching(/^data_id: /) });
    });
  });

  describe('POST /api/products/{data_id}/publish', () => {
    const publish = (id: string) => request(t.app).post(`/api/products/${id}/publish`).set(authHeader());

    it('makes a held product due, records it and queues it: 202', async () => {
      const res = await publish('held');
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ data_id: 'held', status: 'staging', enqueue: 'added' });
      const row = (await t.db.pool.query("SELECT next_attempt_at FROM products WHERE data_id = 'held'")).rows[0];
      expect(row.next_attempt_at).toBeInstanceOf(Date);
      const events = await t.db.pool.query("SELECT event FROM product_events WHERE data_id = 'held' ORDER BY id");
      expect(events.rows.map((r) => r.event)).toEqual(['registered', 'publish_requested']);
      expect(await t.deps.queue.getJob(publishJobId('held'))).toBeDefined();
    });

    it('is idempotent for a product already queued: 202, nothing new', async () => {
      const before = await snapshot();
      const res = await publish('held');
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ data_id: 'held', status: 'staging', enqueue: 'already_queued' });
      expect(await snapshot()).toEqual(before);
    });

    it('answers 404 product_not_found for an unknown data_id', async () => {
      const res = await publish('nope');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'product_not_found', message: expect.any(String) } });
    });

    it('answers 409 already_published for a published product', async () => {
      await seedProduct(t.db.pool, { data_id: 'done', status: 'published', published_path: 'done.fits' });
      const res = await publish('done');
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'already_published', message: expect.stringContaining('done.fits') } });
    });

    it('answers 409 product_failed for a failed product, pointing at the retry route', async () => {
      await seedProduct(t.db.pool, { data_id: 'broken', status: 'failed', publish_error: 'disk on fire' });
      const before = await snapshot();
      const res = await publish('broken');
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: 'product_failed', message: expect.stringContaining('/api/monitoring/publish/retry/broken') } });
      expect(await snapshot()).toEqual(before);
    });
  });
});
