import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { DATA_ID_PATTERN } from '../../services/api/schemas/common.schemas';
import type { ProductRow } from '../../services/core/repositories/product.types';
import { authHeader, createTestApi, type TestApi } from '../support/api';
import { loadConfig } from '../../services/core/config';
import { publishProduct, type TestHookPoint } from '../../services/core/domain/publishing/publish-product';
import type { PublishingDeps } from '../../services/core/domain/publishing/publishing.types';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';
import { testEnv } from '../support/env';
import { productRow, stageProduct } from '../support/publish-fixtures';
import { namesAbsolutePath, treeSnapshot } from '../support/test-hooks';

// Property-based attack on the registration API: generated paths, ids and bodies must only ever
// get a 4xx with an error code, or a 2xx for a product that really lies inside STAGE_ROOT; the
// registry keeps nothing else, and nothing outside STAGE_ROOT is ever opened.

jest.setTimeout(180000);

/** fast-check runs per property; FC_SEED (printed on failure by fast-check) replays a failure. */
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 200);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
const TYPES = ['image', 'mosaic', 'caltable', 'ms'];
const OLD_ATIME = new Date('2001-01-01T00:00:00Z');

interface Answer {
  status: number;
  body: unknown;
}

describe('hostile input at the registration API', () => {
  let api: TestApi;
  let stageRoot: string;
  let outside: string;
  let canary: string;
  let trap: string;
  const registered = new Map<string, string>();
  // One listener for the whole file (supertest's per-request listeners are slower and race for ports).
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    // Generous limits: the properties send thousands of requests with one token from one address.
    api = await createTestApi({ env: { RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_TOKEN: '1000000', LOG_LEVEL: 'error' } });
    stageRoot = api.roots.stageRoot;
    server = http.createServer(api.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    outside = path.join(api.roots.base, 'outside');
    canary = await writeFile(outside, 'secret.fits', 'canary: must never be read');
    trap = path.join(outside, 'trap.fifo');
    // A FIFO outside the root: opening it for reading would block until a writer comes (detected below).
    execFileSync('mkfifo', [trap]);
    await writeFile(api.roots.base, 'stage-evil/x.fits', 'a sibling whose name starts like the stage root');

    for (const rel of ['good/a.fits', 'good/b.fits', 'a..b.fits', 'dir/x.fits', 'dir/sub/y.fits', 'ok\u2024name.fits', '\u202Ertl.fits', 'dirlink/ok.fits']) {
      await writeFile(stageRoot, rel, `content of ${rel}`);
    }
    await writeFile(stageRoot, 'empty.fits', '');
    execFileSync('mkfifo', [path.join(stageRoot, 'inside.fifo')]);
    const links: Array<[string, string]> = [
      ['link-out', '../outside/secret.fits'],
      ['link-dir', outside],
      ['link-fifo', '../outside/trap.fifo'],
      ['link-abs', '/etc/passwd'],
      ['link-root', '/'],
      ['link-products', '../products'],
      ['link-evil', '../stage-evil'],
      ['link-in', 'good/a.fits'],
      ['loop-a', 'loop-b'],
      ['loop-b', 'loop-a'],
      ['dirlink/esc', '../../outside/secret.fits'],
      ['dir/sub/up', '../../../outside'],
    ];
    for (const [at, target] of links) await fs.symlink(target, path.join(stageRoot, at));
    await writeFile(api.roots.productsRoot, 'published.fits', 'already in the archive');
    // relatime updates atime on the next read when atime <= mtime: any read of the canary moves it.
    await fs.utimes(canary, OLD_ATIME, new Date());
  });

  afterAll(async () => {
    if (server) await new Promise((resolve) => server.close(resolve));
    await api?.close();
  });

  const auth = () => authHeader();

  async function post(url: string, body: string | undefined, contentType = 'application/json'): Promise<Answer> {
    let req = request(base).post(url).set(auth());
    if (body !== undefined) req = req.set('Content-Type', contentType).send(body);
    const res = await req;
    return { status: res.status, body: res.body as unknown };
  }

  function assertRefusalOrOk(a: Answer, what: string): void {
    if (a.status >= 500 || a.status < 200 || (a.status >= 300 && a.status < 400)) {
      // The server's own account of a 5xx makes the counterexample a reproduction.
      const logged = JSON.stringify(api.logs().filter((l) => l.level === 'error').slice(-1)[0] ?? {}).slice(0, 1500);
      throw new Error(`${what}: answered ${a.status} ${JSON.stringify(a.body)}; server log: ${logged}`);
    }
    if (a.status >= 400) {
      const code = (a.body as { error?: { code?: unknown; message?: unknown } })?.error?.code;
      const message = (a.body as { error?: { message?: unknown } })?.error?.message;
      if (typeof code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(code) || typeof message !== 'string' || message.length === 0) {
        throw new Error(`${what}: ${a.status} without an error code and message: ${JSON.stringify(a.body)}`);
      }
    }
  }

  /** A 2xx registration must name a real regular file or directory inside STAGE_ROOT. */
  async function assertLegitimate(product: { data_id: string; data_type: string; stage_path: string; kind: string }, what: string): Promise<void> {
    const realRoot = await fs.realpath(stageRoot);
    if (!DATA_ID_PATTERN.test(product.data_id)) throw new Error(`${what}: registered a bad data_id ${JSON.stringify(product.data_id)}`);
    if (!TYPES.includes(product.data_type)) throw new Error(`${what}: registered unknown data_type ${product.data_type}`);
    const sp = product.stage_path;
    if (sp.startsWith('/') || sp.split('/').some((p) => p === '..' || p === '.' || p === '') || sp.includes('\0') || sp.startsWith('.ferry-')) {
      throw new Error(`${what}: stored a stage_path that is not a clean relative path: ${JSON.stringify(sp)}`);
    }
    const real = await fs.realpath(path.join(realRoot, sp));
    if (real !== path.join(realRoot, sp)) throw new Error(`${what}: stored stage_path ${sp} is not resolved (real: ${real})`);
    if (!real.startsWith(`${realRoot}/`)) throw new Error(`${what}: registered ${real}, outside STAGE_ROOT`);
    const st = await fs.lstat(real);
    if (!(st.isFile() && st.size > 0) && !st.isDirectory()) throw new Error(`${what}: registered something that is not a non-empty file or directory`);
    if ((product.kind === 'file') !== st.isFile()) throw new Error(`${what}: kind ${product.kind} does not match the source`);
  }

  async function checkRegistration(body: string, what: string): Promise<void> {
    const a = await post('/api/products', body);
    assertRefusalOrOk(a, what);
    if (a.status === 200 || a.status === 201) {
      const p = a.body as { data_id: string; data_type: string; stage_path: string; kind: string };
      await assertLegitimate(p, what);
      if (a.status === 201) {
        if (registered.has(p.data_id)) throw new Error(`${what}: 201 for ${p.data_id}, which was registered before`);
        registered.set(p.data_id, p.stage_path);
      } else if (registered.get(p.data_id) !== p.stage_path) {
        throw new Error(`${what}: 200 for ${p.data_id} but it was never registered with ${p.stage_path}`);
      }
    } else if (a.status !== 400 && a.status !== 409 && a.status !== 413 && a.status !== 415 && a.status !== 422) {
      throw new Error(`${what}: unexpected ${a.status} ${JSON.stringify(a.body)}`);
    }
  }

  // ---- generators -------------------------------------------------------------------------

  const hostileSegment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(
      '..', '.', '', 'good', 'a.fits', 'b.fits', 'a..b.fits', 'dir', 'sub', 'x.fits', 'y.fits', 'outside', 'secret.fits', 'trap.fifo',
      'link-out', 'link-dir', 'link-fifo', 'link-abs', 'link-root', 'link-products', 'link-evil', 'link-in', 'loop-a', 'dirlink', 'esc', 'up',
      'empty.fits', 'inside.fifo', 'stage', 'stage-evil', 'products', 'published.fits', '.ferry-tmp', '.ferry-data-root', 'etc', 'passwd',
      '\u2024\u2024', '\uFF0E\uFF0E', '\u2025', '.\u200B.', '\u2215', '\u202E..', '..\u200F', 'ok\u2024name.fits', '\u202Ertl.fits',
      '%2e%2e', '..%2f', '..\\..', '~', '\0', 'a\0.fits', '\n', '\t', '\u007f', 'x'.repeat(256), '\u00e9'.repeat(128), 'y'.repeat(255),
    ) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  );
  const separator = fc.constantFrom('/', '/', '/', '//', '\u2215', '\\', '/./');
  const prefix = () => fc.constantFrom('', '', '', '/', './', `${stageRoot}/`, `${stageRoot}/../`, `${path.dirname(stageRoot)}/`, '/etc/', '/proc/self/', `${outside}/`);
  const legitPath = () => fc.constantFrom('good/a.fits', 'dir', 'a..b.fits', 'link-in', `${stageRoot}/good/b.fits`, 'dir/sub/../x.fits', './ok\u2024name.fits', '\u202Ertl.fits', 'good//b.fits', 'dir/sub/y.fits');
  const stagePath = () => fc.oneof(
    { weight: 2, arbitrary: legitPath() },
    { weight: 8, arbitrary: fc.tuple(prefix(), fc.array(fc.tuple(hostileSegment, separator), { minLength: 1, maxLength: 6 }))
      .map(([p, parts]) => p + parts.map(([s, sep], i) => (i === parts.length - 1 ? s : s + sep)).join('')) },
    { weight: 1, arbitrary: fc.constantFrom('a/'.repeat(2100), `${'z'.repeat(200)}/`.repeat(25), canary, trap, stageRoot, `${stageRoot}/`, '/') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  );
  const dataId = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,20}$/) },
    { weight: 2, arbitrary: fc.constantFrom('good', 'dup', 'a:b', 'a/b', '../x', '.hidden', '-dash', 'x'.repeat(200), 'x'.repeat(201), '', ' ', 'id\0', '\u0430dmin', 'id\u200F', '%2e', '__proto__', 'constructor') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  );
  const nastyValue = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, 1.5, '', [], {}, ['good/a.fits'], { $gt: '' }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const metadata = fc.oneof(
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 8 }), { maxKeys: 3 }),
    nastyValue,
  );
  const sha = fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{64}$/), fc.constantFrom(null, 'zz', '0'.repeat(63), '0'.repeat(65)), nastyValue);

  /** A body as raw text: mostly plausible objects with hostile values, sometimes outright junk. */
  const body = () => fc.oneof(
    { weight: 6, arbitrary: fc.record({
      data_id: fc.oneof({ weight: 4, arbitrary: dataId }, { weight: 1, arbitrary: nastyValue }),
      data_type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom('IMAGE', 'other', '', 'image ', 'x'.repeat(65)) }, { weight: 1, arbitrary: nastyValue }),
      stage_path: fc.oneof({ weight: 6, arbitrary: stagePath() }, { weight: 1, arbitrary: nastyValue }),
      expected_sha256: sha,
      metadata,
      auto_publish: fc.oneof(fc.boolean(), nastyValue),
      extra: nastyValue,
    }, { requiredKeys: ['data_id', 'data_type', 'stage_path'] }).map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom(
      '{"data_id": 1e999, "data_type": "image", "stage_path": "good/a.fits"}',
      '{"data_id": "n1", "data_type": "image", "stage_path": "good/a.fits", "data_id": "n2"}',
      '{"__proto__": {"admin": true}, "data_id": "p1", "data_type": "image", "stage_path": "good/b.fits"}',
      '{"data_id": "m1", "data_type": "image", "stage_path": "dir/x.fits", "metadata": {"k": "nul \\u0000 inside"}}',
      '{"data_id": "m2", "data_type": "image", "stage_path": "dir/x.fits", "metadata": {"nul\\u0000key": 1}}',
      '{"data_id": "m3", "data_type": "image", "stage_path": "dir/x.fits", "metadata": {"big": 123456789012345678901234567890}}',
      `{"data_id": "m4", "data_type": "image", "stage_path": "dir/x.fits", "metadata": {"deep": ${'['.repeat(10000)}${']'.repeat(10000)}}}`,
      `{"data_id": "m5", "data_type": "image", "stage_path": "dir/x.fits", "metadata": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
      '{"data_id": "s1", "data_type": "image", "stage_path": "good/a.fits", "expected_sha256": "\\ud800"}',
      '{"data_id": "\\ud800", "data_type": "image", "stage_path": "good/a.fits"}',
      '[', '{', 'null', '"text"', '{"data_id":}', '\u0000', '{"a":1}garbage',
    ) },
  );

  // ---- properties --------------------------------------------------------------------------

  it('answers every generated registration with a 4xx and a code, or a 2xx only for a product inside STAGE_ROOT', async () => {
    await fc.assert(fc.asyncProperty(body(), async (text) => checkRegistration(text, `POST /api/products ${text.slice(0, 300)}`)), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true });
  });

  it('refuses every generated stage path that does not lie inside STAGE_ROOT, whatever the spelling', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(stagePath(), fc.constantFrom(...TYPES), async (sp, type) => {
      const id = `path-${SEED & 0xffff}-${n++}`;
      await checkRegistration(JSON.stringify({ data_id: id, data_type: type, stage_path: sp, auto_publish: false }), `stage_path ${JSON.stringify(sp).slice(0, 300)}`);
    }), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true });
  });

  it('answers generated data ids on the per-product routes with 4xx codes and never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(dataId, fc.constantFrom('get', 'publish', 'retry'), async (id, op) => {
      const enc = encodeURIComponent(id);
      let a: Answer;
      if (op === 'get') {
        const res = await request(base).get(`/api/products/${enc}`).set(auth());
        a = { status: res.status, body: res.body as unknown };
      } else if (op === 'publish') {
        a = await post(`/api/products/${enc}/publish`, undefined);
      } else {
        a = await post(`/api/monitoring/publish/retry/${enc}`, undefined);
      }
      assertRefusalOrOk(a, `${op} ${JSON.stringify(id)}`);
      // An empty id is the list route (GET /api/products/), not a product.
      if (a.status < 300 && !registered.has(id) && !(id === '' && op === 'get')) throw new Error(`${op} ${JSON.stringify(id)}: ${a.status} for an id never registered`);
    }), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true });
  });

  it('answers generated list queries with 200 or a 400 validation error', async () => {
    // Values arrive percent-encoded; the raw ones are a NUL, an encoded lone surrogate, invalid UTF-8 and broken escapes.
    const param = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom('-1', '0', '501', '1e3', '0x10', 'NaN', '9'.repeat(400), 'staging', 'published', '2026-13-40T00:00:00Z', '2026-11-24T00:00:00Z').map(encodeURIComponent),
      fc.constantFrom('%00', 'a%00b', 'image%00', '%ED%A0%80', '%FF', '%', '%2', 'AAAA%00', 'x'),
    );
    const key = fc.constantFrom('status', 'data_type', 'created_since', 'created_until', 'cursor', 'limit', 'unknown', '__proto__', 'limit[]');
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(key, param), { maxLength: 4 }), async (pairs) => {
      const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
      const res = await request(base).get(`/api/products?${qs}`).set(auth());
      assertRefusalOrOk({ status: res.status, body: res.body as unknown }, `GET /api/products?${qs}`);
    }), { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true });
  });

  it('refuses non-JSON media types, oversized bodies and malformed JSON with their codes', async () => {
    expect(await post('/api/products', 'data_id=x', 'application/x-www-form-urlencoded')).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    expect(await post('/api/products', `{"data_id": "big", "metadata": {"pad": "${'x'.repeat(1024 * 1024)}"}}`)).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(await post('/api/products', '{"data_id": "x",')).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
  });

  it('refuses metadata PostgreSQL cannot store or the registry cannot compare, and a NUL in a list filter, with 400s', async () => {
    // Each of these once answered 500: jsonb refuses \u0000, and a re-registration compared deep metadata recursively.
    const reg = (metadata: string) => post('/api/products', `{"data_id": "meta-probe", "data_type": "image", "stage_path": "good/a.fits", "metadata": ${metadata}}`);
    for (const m of ['{"k": "nul \\u0000 inside"}', '{"nul\\u0000key": 1}', `{"deep": ${'['.repeat(5000)}${']'.repeat(5000)}}`, `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`]) {
      for (let i = 0; i < 2; i++) expect(await reg(m)).toMatchObject({ status: 400, body: { error: { code: 'validation_error' } } });
    }
    const list = await request(base).get('/api/products?data_type=image%00').set(auth());
    expect(list.status).toBe(400);
    expect(list.body).toMatchObject({ error: { code: 'validation_error' } });
  });

  it('kept only legitimate products in the registry, and never read anything outside STAGE_ROOT', async () => {
    const rows = (await api.db.pool.query<ProductRow>('SELECT * FROM products ORDER BY id')).rows;
    // The properties must have registered some valid products, or the 2xx branch was never tested.
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.data_id).sort()).toEqual([...registered.keys()].sort());
    for (const r of rows) {
      await assertLegitimate(r, `registry row ${r.data_id}`);
      expect(r.destination_path).toBe(r.stage_path);
      expect(registered.get(r.data_id)).toBe(r.stage_path);
    }
    // One `registered` event per product and nothing else (no worker runs here).
    const events = await api.db.pool.query<{ data_id: string; event: string }>('SELECT data_id, event FROM product_events ORDER BY id');
    expect(events.rows.filter((e) => e.event !== 'registered' && e.event !== 'publish_requested')).toEqual([]);
    expect(new Set(events.rows.filter((e) => e.event === 'registered').map((e) => e.data_id)).size).toBe(rows.length);
    expect(events.rows.filter((e) => e.event === 'registered')).toHaveLength(rows.length);

    // The canary outside STAGE_ROOT was never read (relatime would have moved its atime) …
    expect((await fs.stat(canary)).atime.getTime()).toBe(OLD_ATIME.getTime());
    // … and nobody is stuck reading the FIFO: opening its write end without a reader fails with ENXIO.
    const opened = await fs.open(trap, fsc.O_WRONLY | fsc.O_NONBLOCK).then(async (fh) => {
      await fh.close();
      return true;
    }, (err: NodeJS.ErrnoException) => (err.code === 'ENXIO' ? false : Promise.reject(err)));
    expect(opened).toBe(false);
    // Nothing was written into the products root or next to the stage.
    expect((await fs.readdir(api.roots.productsRoot)).sort()).toEqual(['published.fits']);
    expect((await fs.readdir(outside)).sort()).toEqual(['secret.fits', 'trap.fifo']);
  });
});

// Property-based attack on publishing itself: a stage writer who swaps parts of a product (or its
// parent) for symlinks at the exact moment the worker scans, copies or removes it, with any modes.
// Nothing outside STAGE_ROOT may reach the archive or be touched, a published product is never
// moved or changed, and what is published is the genuine product with sanitised modes.
describe('hostile stage writer against publishing', () => {
  const SWAP_RUNS = Math.min(NUM_RUNS, 40);
  const DROP = 0o7022;
  let db: TestDatabase;
  let roots: TestRoots;
  let outside: string;
  let foreignHashes: Set<string>;
  let outsideBefore: Record<string, string>;
  let victimBefore: Record<string, string>;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    outside = path.join(roots.base, 'outside');
    // The outside folder mirrors a product's shape, so a swapped path finds a file of the same name.
    for (const rel of ['f0', 'f1', 'deep/f2', 'sub/f1', 'sub/deep/f2', 'prod/f0', 'prod/sub/f1']) await writeFile(outside, rel, crypto.randomBytes(512));
    foreignHashes = new Set(Object.values(await treeSnapshot(outside)).map((v) => v.split(' ')[4]!).filter(Boolean));
    outsideBefore = await treeSnapshot(outside);
    // A published product that a parent swapped into PRODUCTS_ROOT would expose to the source removal.
    await stageProduct(db.pool, roots.stageRoot, 'victim/prod', { f0: 'victim f0', 'sub/f1': 'victim f1' }, { dataId: 'victim' });
    expect((await publishProduct(deps('copy'), 'victim')).outcome).toBe('published');
    victimBefore = await treeSnapshot(path.join(roots.productsRoot, 'victim'));
  });
  afterAll(async () => {
    await db?.drop();
    await roots?.cleanup();
  });

  function deps(mode: 'move' | 'copy'): PublishingDeps {
    const env = testEnv({ databaseUrl: db.url, redisPrefix: 'unused', stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, {
      PUBLISH_BACKOFF_BASE_SECONDS: '0', PUBLISH_LEASE_SECONDS: '30', PUBLISH_MAX_ATTEMPTS: '4', PUBLISH_MODE: mode, FERRY_INSTANCE: 'prop',
    });
    return { pool: db.pool, config: loadConfig('worker', env) };
  }

  const fileMode = fc.constantFrom(0o644, 0o600, 0o4755, 0o2755, 0o6777, 0o666, 0o777, 0o1644);
  const dirMode = fc.constantFrom(0o755, 0o700, 0o777, 0o1777, 0o2775, 0o3777);
  const attack = fc.record({
    point: fc.constantFrom<TestHookPoint>('after-scan', 'after-copy', 'before-source-removal'),
    what: fc.constantFrom('subdir-to-outside', 'file-to-outside', 'parent-to-products', 'product-to-products', 'none'),
    mode: fc.constantFrom<'move' | 'copy'>('move', 'copy'),
    modes: fc.record({ f0: fileMode, f1: fileMode, f2: fileMode, root: dirMode, sub: dirMode, deep: dirMode }),
  });

  it('never publishes, moves or touches anything outside the product, whatever is swapped when, and drops the unsafe mode bits', async () => {
    await fc.assert(fc.asyncProperty(attack, async (a) => {
      const id = `swap-${n}`;
      const runDir = path.join(roots.stageRoot, 'runs', `r${n}`);
      const rel = `runs/r${n++}/prod`;
      const genuine = { f0: crypto.randomBytes(700), 'sub/f1': crypto.randomBytes(900), 'sub/deep/f2': crypto.randomBytes(300) };
      await stageProduct(db.pool, roots.stageRoot, rel, genuine, { dataId: id });
      const prod = path.join(roots.stageRoot, rel);
      const set: Array<[string, number]> = [['f0', a.modes.f0], ['sub/f1', a.modes.f1], ['sub/deep/f2', a.modes.f2], ['sub/deep', a.modes.deep], ['sub', a.modes.sub], ['', a.modes.root]];
      for (const [p, m] of set) await fs.chmod(path.join(prod, p), m);
      // Each swap and how to undo it: [the path replaced, the symlink's target].
      const swaps: Record<string, [string, string] | undefined> = {
        'subdir-to-outside': [path.join(prod, 'sub'), outside],
        'file-to-outside': [path.join(prod, 'sub/f1'), path.join(outside, 'f1')],
        'parent-to-products': [runDir, path.join(roots.productsRoot, 'victim')],
        'product-to-products': [prod, path.join(roots.productsRoot, 'victim/prod')],
        none: undefined,
      };
      const swap = swaps[a.what];
      const parked = `${runDir}-parked-${a.what}`;
      let swapped = false;
      const testHook = async (point: TestHookPoint, dataId: string) => {
        if (!swap || swapped || point !== a.point || dataId !== id) return;
        swapped = true;
        await fs.rename(swap[0], parked);
        await fs.symlink(swap[1], swap[0]);
      };
      let outcome = '';
      for (let attempt = 0; attempt < 4; attempt++) {
        const r = await publishProduct(deps(a.mode), id, { testHook });
        outcome = r.outcome;
        if (swapped) {
          await fs.unlink(swap![0]).catch(() => undefined);
          await fs.rename(parked, swap![0]).catch(() => undefined);
        }
        if (outcome !== 'retry') break;
        await db.pool.query('UPDATE products SET due_at = now() WHERE data_id = $1', [id]);
      }

      expect(await treeSnapshot(outside)).toEqual(outsideBefore);
      expect(await treeSnapshot(path.join(roots.productsRoot, 'victim'))).toEqual(victimBefore);
      const publishedHashes = Object.values(await treeSnapshot(roots.productsRoot)).map((v) => v.split(' ')[4]);
      expect(publishedHashes.filter((h) => h && foreignHashes.has(h))).toEqual([]);
      const row = await productRow(db.pool, id);
      if (row.status === 'published') {
        const out = path.join(roots.productsRoot, rel);
        for (const [p, data] of Object.entries(genuine)) expect(await fs.readFile(path.join(out, p))).toEqual(data);
        for (const [p, m] of set) expect(((await fs.lstat(path.join(out, p))).mode & 0o7777).toString(8)).toBe((m & ~DROP).toString(8));
      }
      const texts = [row.publish_error, ...(await db.pool.query<{ error: string | null }>('SELECT error FROM product_events WHERE data_id = $1', [id])).rows.map((e) => e.error)];
      expect(texts.filter(namesAbsolutePath)).toEqual([]);
      if (a.what === 'none') expect(row.status).toBe('published');
    }), { numRuns: SWAP_RUNS, seed: SEED, endOnFailure: true });
  });
});
