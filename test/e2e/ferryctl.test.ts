import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { version } from '../../services/core/version';
import { writeFile } from '../support/dirs';
import { waitFor } from '../support/wait-for';
import { freePort } from '../support/free-port';
import { adminEnv, ferryctl, startStack, type FerryStack } from './ferryctl-harness';

// The project-level testTimeout is not applied when several projects run together: set it here.
jest.setTimeout(120_000);

// ferryctl as a separate process against a real api and worker (real Postgres, Redis, file system).
describe('ferryctl against a running api and worker', () => {
  let stack: FerryStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startWorker();
    env = adminEnv(stack);
  }, 90_000);
  afterAll(async () => stack?.close());

  const json = <T>(s: string) => JSON.parse(s) as T;

  async function statusOf(dataId: string): Promise<string | undefined> {
    const res = await stack.db.pool.query<{ status: string }>('SELECT status FROM products WHERE data_id = $1', [dataId]);
    return res.rows[0]?.status;
  }

  /** A product staged and registered without publishing, then marked failed past its attempts. */
  async function failedProduct(dataId: string): Promise<void> {
    await writeFile(stack.roots.stageRoot, `failed/${dataId}.fits`, `bytes of ${dataId}`);
    await stack.register({ data_id: dataId, data_type: 'image', stage_path: `failed/${dataId}.fits`, auto_publish: false });
    await stack.db.pool.query(
      `UPDATE products SET status = 'failed', publish_attempts = 5, publish_error = 'simulated EIO', error_class = 'transient'
        WHERE data_id = $1`,
      [dataId],
    );
  }

  /** The rows and events of the given products, to prove a command left them exactly as they were. */
  async function snapshotOf(dataIds: string[]): Promise<string> {
    const res = await stack.db.pool.query(
      `SELECT (SELECT json_agg(p ORDER BY id) FROM products p WHERE data_id = ANY($1)) AS products,
              (SELECT json_agg(e ORDER BY id) FROM product_events e WHERE data_id = ANY($1)) AS events`,
      [dataIds],
    );
    return JSON.stringify(res.rows[0]);
  }

  it('test reports reachability, version and every scope of the admin token', async () => {
    const r = await ferryctl(['test', '--json'], env);
    expect(r.code).toBe(0);
    const report = json<{ reachable: boolean; version: string; tls: { used: boolean }; token: { valid: boolean; scopes: string[] }; ok: boolean }>(r.stdout);
    expect(report).toMatchObject({ reachable: true, version, tls: { used: false }, token: { valid: true, scopes: ['read', 'publish', 'admin'] }, ok: true });
    const text = await ferryctl(['test'], env);
    expect(text.stdout).toMatch(/^ok\s+connectivity/m);
    expect(text.stdout).toContain(`Ferry ${version}`);
  });

  it('test and status exit 2 when the API cannot be reached', async () => {
    const down = { ...env, FERRY_URL: `http://127.0.0.1:${await freePort()}` };
    for (const cmd of [['test'], ['status'], ['failed']]) {
      const r = await ferryctl(cmd, down);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^ferryctl: cannot reach the API at .*: connection refused\n$/);
    }
  });

  /** A CA and a certificate for 127.0.0.1 signed by it, made with openssl in dir. */
  function makeCerts(dir: string): { ca: string; key: string; cert: string } {
    const f = (n: string) => path.join(dir, n);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=ferry-test-ca');
    ssl('req', ...ec, '-keyout', f('srv.key'), '-out', f('srv.csr'), '-subj', '/CN=127.0.0.1');
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > "${f('ext.cnf')}"`]);
    ssl('x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('srv.pem'), '-days', '1', '-extfile', f('ext.cnf'));
    return { ca: f('ca.pem'), key: f('srv.key'), cert: f('srv.pem') };
  }

  it('test over https trusts the API only with its private CA (--ca)', async () => {
    const dir = path.join(stack.roots.base, 'tls');
    await fs.mkdir(dir);
    const certs = makeCerts(dir);
    // A TLS front for the api, as nginx would be.
    const upstream = new URL(stack.url);
    const front = https.createServer({ key: await fs.readFile(certs.key), cert: await fs.readFile(certs.cert) }, (req, res) => {
      const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
      const r = await ferryctl(['test', '--json', '--ca', certs.ca], { ...env, FERRY_URL: url });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ tls: { used: true, authorized: true, issuer: 'CN=ferry-test-ca' }, token: { valid: true } });
      const untrusted = await ferryctl(['status'], { ...env, FERRY_URL: url });
      expect(untrusted.code).toBe(2);
      expect(untrusted.stderr).toMatch(/the server certificate is not trusted .*pass its CA with --ca/);
      const viaEnv = await ferryctl(['status', '--json'], { ...env, FERRY_URL: url, FERRY_CA: certs.ca });
      expect(viaEnv.code).toBe(0);
    } finally {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
    }
  });

  it('exits 2 on a refused token, for test and for a read', async () => {
    const bad = { ...env, FERRY_TOKEN: 'this-token-was-never-issued-0000' };
    const t = await ferryctl(['test'], bad);
    expect(t.code).toBe(2);
    expect(t.stdout).toMatch(/^FAIL\s+token/m);
    const s = await ferryctl(['status'], bad);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^ferryctl: token refused \(401\)/);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('creates, lists and revokes a token; a read token cannot retry; a revoked one is refused', async () => {
    const created = await ferryctl(['token', 'create', 'ops-reader', '--scopes', 'read', '--json'], env);
    expect(created.code).toBe(0);
    const token = json<{ token: string; name: string; scopes: string[] }>(created.stdout);
    expect(token).toMatchObject({ name: 'ops-reader', scopes: ['read'] });
    const reader = { FERRY_URL: stack.url, FERRY_TOKEN: token.token };

    const tokenFile = `${stack.roots.base}/reader.token`;
    await fs.writeFile(tokenFile, `${token.token}\n`);
    const t = await ferryctl(['test', '--json'], { FERRY_URL: stack.url, FERRY_TOKEN_FILE: tokenFile });
    expect(json<{ token: { scopes: string[] } }>(t.stdout).token.scopes).toEqual(['read']);

    const list = await ferryctl(['token', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect(JSON.stringify(json(list.stdout))).toContain('"ops-reader"');
    expect(list.stdout).not.toContain(token.token);
    const table = await ferryctl(['token', 'list'], env);
    expect(table.stdout).toMatch(/^ops-reader\s+read\s/m);

    const denied = await ferryctl(['retry-all'], reader);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/token refused \(403\)/);

    expect((await ferryctl(['status'], reader)).code).toBe(0);
    const revoked = await ferryctl(['token', 'revoke', 'ops-reader'], env);
    expect(revoked).toMatchObject({ code: 0, stdout: 'token "ops-reader" revoked\n' });
    expect((await ferryctl(['status'], reader)).code).toBe(2);
  });

  it('publishes through the worker and lists and shows the products', async () => {
    await writeFile(stack.roots.stageRoot, 'images/img-1.fits', 'image one');
    await writeFile(stack.roots.stageRoot, 'ms/set-1.ms/table.f0', 'column data');
    await writeFile(stack.roots.stageRoot, 'ms/set-1.ms/sub/meta', 'meta');
    await stack.register({ data_id: 'img-1', data_type: 'image', stage_path: 'images/img-1.fits' });
    await stack.register({ data_id: 'set-1', data_type: 'ms', stage_path: 'ms/set-1.ms' });
    await waitFor(async () => (await statusOf('img-1')) === 'published' && (await statusOf('set-1')) === 'published', 60_000, 'publishes');

    const list = await ferryctl(['products', 'list', '--status', 'published', '--json'], env);
    expect(list.code).toBe(0);
    const page = json<{ products: { data_id: string }[]; next_cursor: string | null }>(list.stdout);
    expect(page.products.map((p) => p.data_id)).toEqual(['img-1', 'set-1']);

    // One product per page: the cursor is followed to the end.
    const paged = await ferryctl(['products', 'list', '--status', 'published', '--limit', '1', '--all', '--json'], env);
    expect(json<{ products: { data_id: string }[] }>(paged.stdout).products.map((p) => p.data_id)).toEqual(['img-1', 'set-1']);
    const first = await ferryctl(['products', 'list', '--limit', '1', '--data-type', 'ms'], env);
    expect(first.stdout).toMatch(/^set-1\s+ms\s+published\s+directory/m);

    const show = await ferryctl(['products', 'show', 'set-1', '--json'], env);
    const p = json<{ status: string; kind: string; published_path: string; manifest: { path: string }[]; events: { to_status: string }[] }>(show.stdout);
    expect(p).toMatchObject({ status: 'published', kind: 'directory', published_path: 'ms/set-1.ms' });
    expect(p.manifest.map((e) => e.path).sort()).toEqual(['sub/meta', 'table.f0']);
    expect(p.events.map((e) => e.to_status)).toContain('published');
    const text = await ferryctl(['products', 'show', 'img-1'], env);
    expect(text.stdout).toMatch(/^status\s+published$/m);
    expect(text.stdout).toContain('Events');

    const missing = await ferryctl(['products', 'show', 'no-such-product'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ferryctl: GET \/api\/products\/no-such-product failed \(404\): no product with data_id no-such-product/);
  });

  it('shows the status as a table and as JSON', async () => {
    const table = await ferryctl(['status'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Publishing\n/);
    expect(table.stdout).toMatch(/success rate\s+(\d|not enough data)/);
    expect(table.stdout).toMatch(/queue\.waiting\s+\d+/);
    const r = await ferryctl(['status', '--json'], env);
    const s = json<{ publish: Record<string, unknown>; service: { queue: Record<string, number> } }>(r.stdout);
    expect(Object.keys(s.publish).sort()).toEqual(
      ['failed_publishes', 'max_attempts_exceeded', 'oldest_failed_age_seconds', 'oldest_waiting_age_seconds', 'paused', 'recent_failures_24h',
        'success_rate', 'success_rate_percent', 'timestamp', 'total_discarded', 'total_held', 'total_published', 'total_publishing', 'total_retracted', 'total_staging'],
    );
    expect(s.publish.total_published).toEqual(expect.any(Number));
    expect(s.service.queue).toMatchObject({ waiting: expect.any(Number), failed: expect.any(Number) });
  });

  it('lists failed publishes; retry-all --dry-run lists them and changes nothing', async () => {
    await failedProduct('bad-1');
    await failedProduct('bad-2');
    const failed = await ferryctl(['failed', '--json'], env);
    expect(failed.code).toBe(0);
    const list = json<{ count: number; failed_publishes: { data_id: string; publish_attempts: number }[] }>(failed.stdout);
    expect(list.failed_publishes.map((f) => f.data_id)).toEqual(['bad-1', 'bad-2']);
    expect((await ferryctl(['failed', '--limit', '1'], env)).stdout).toMatch(/^DATA_ID.*\nbad-1\s+image\s+\S+\s+5\s/);

    const before = await snapshotOf(['bad-1', 'bad-2']);
    const dry = await ferryctl(['retry-all', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would retry bad-1 (image, transient, 5 attempts)');
    expect(dry.stdout).toContain('2 product(s) would be retried (dry run: nothing changed)');
    const dryJson = await ferryctl(['retry-all', '--dry-run', '--json', '--limit', '1'], env);
    expect(json<{ dry_run: boolean; would_retry: { data_id: string }[] }>(dryJson.stdout)).toMatchObject({ dry_run: true, would_retry: [{ data_id: 'bad-1' }] });
    // Give the worker and reconciler time to act on anything the dry run might have touched.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await snapshotOf(['bad-1', 'bad-2'])).toBe(before);
    expect(await statusOf('bad-1')).toBe('failed');
  });

  it('retry --wait publishes one failed product; retrying a published one exits 1', async () => {
    await failedProduct('bad-3');
    const r = await ferryctl(['retry', 'bad-3', '--wait', '30'], env);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'bad-3: published at failed/bad-3.fits\n' });
    expect(await statusOf('bad-3')).toBe('published');
    const again = await ferryctl(['retry', 'bad-3', '--json'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409');
  });

  it('retry-all re-queues the failed products, oldest first, and --wait sees them published', async () => {
    const r = await ferryctl(['retry-all', '--wait', '60'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/retried bad-1 \(.*\)\nretried bad-2 \(.*\)\n2 of 2 re-queued, 0 skipped, 0 could not be queued\n/);
    expect(r.stdout).toMatch(/bad-1: published/);
    expect(await statusOf('bad-1')).toBe('published');
    expect(await statusOf('bad-2')).toBe('published');
    const none = await ferryctl(['retry-all', '--json'], env);
    expect(json(none.stdout)).toMatchObject({ total_attempted: 0, successful: 0, failed: 0, results: [] });
  });

  it('reconcile prints no drift on a healthy system and exits 1 naming a file without a row', async () => {
    const clean = await ferryctl(['reconcile'], env);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^files_without_row: 0$/m);
    expect(clean.stdout.endsWith('no drift\n')).toBe(true);
    expect(JSON.parse((await ferryctl(['reconcile', '--json'], env)).stdout)).toMatchObject({ healthy: true });

    await writeFile(stack.roots.productsRoot, 'stray/orphan.fits', 'nobody registered me');
    const drift = await ferryctl(['reconcile'], env);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toMatch(/^files_without_row: 1\n {2}path=stray.*\n/m);
    expect(drift.stdout).toContain('1 drift entry');
  });
});
