import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareNginx, type NginxUnderTest } from '../support/nginx';
import { createTestCertificate } from '../support/tls';
import { waitFor } from '../support/wait-for';
import { ADMIN_TOKEN, ferryctl, spawnFerryctl, startStack, type FerryStack } from './ferryctl-harness';

jest.setTimeout(600_000);

// ferryctl through the production nginx configuration and its real rate limits (10 r/s, burst 20
// per client on /api): 300 products retried and waited for, then audited, finish with exit 0; an
// api stopped midway ends the audit with exit 2 and its metrics say so, and ends a
// `retry-all --wait` with exit 2 and a summary of what it saw before.
describe('ferryctl through nginx with 300 products', () => {
  const N = 300;
  let stack: FerryStack;
  let nginx: NginxUnderTest;
  let certDir: string;
  let env: Record<string, string>;
  let textfileDir: string;

  beforeAll(async () => {
    stack = await startStack({ PUBLISH_CONCURRENCY: '8' });
    certDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-nginx-cert-'));
    const tls = createTestCertificate(certDir);
    nginx = await prepareNginx({ cert: tls.certFile, key: tls.keyFile, apiUpstream: new URL(stack.url).host });
    await nginx.start();
    env = {
      FERRY_URL: `https://localhost:${nginx.ports.https}`, FERRY_TOKEN: ADMIN_TOKEN, FERRY_CA: tls.caFile,
      PRODUCTS_ROOT: stack.roots.productsRoot, FERRY_AUDIT_RATE_MB_S: '0',
    };
    textfileDir = path.join(stack.roots.base, 'textfile');
    await fs.mkdir(textfileDir);
    // 300 products that failed with a fixable error: their sources are in place.
    await fs.mkdir(path.join(stack.roots.stageRoot, 'bulk'));
    for (let i = 0; i < N; i++) await fs.writeFile(path.join(stack.roots.stageRoot, `bulk/p${i}.fits`), `pixels ${i}`);
    await stack.db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, size_bytes, file_count, publish_attempts, error_class, publish_error)
       SELECT 'p' || g, 'image', 'bulk/p' || g || '.fits', 'bulk/p' || g || '.fits', 'file', 'failed', length('pixels ' || g), 1, 5, 'io_error', 'EIO'
         FROM generate_series(0, $1 - 1) g`, [N]);
    await stack.startWorker();
  });
  afterAll(async () => {
    await nginx?.stop();
    await stack?.close();
    await fs.rm(certDir, { recursive: true, force: true });
  });

  it('retry-all --wait re-queues and follows 300 products through the rate limits, then exits 0', async () => {
    const res = await ferryctl(['retry-all', '--limit', String(N), '--wait', '300'], env, 400_000);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    expect(res.stdout).toContain(`${N} of ${N} re-queued`);
    expect(res.stdout).toMatch(new RegExp(`after the wait: ${N} published, 0 failed, 0 still pending \\(\\d+ answer\\(s\\) retried after 429/unavailable\\)`));
    // nginx answered 429s, and ferryctl rode them out.
    expect(nginx.accessLog().filter((l) => l.status === 429 || l.status === '429').length).toBeGreaterThan(0);
  });

  it('audits all 300 through nginx with exit 0 and writes its metrics', async () => {
    const res = await ferryctl(['audit', '--textfile-dir', textfileDir, '--json'], env, 300_000);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(res.stdout)).toMatchObject({ outcome: 'ok', products_checked: N, mismatches: 0 });
    const prom = await fs.readFile(path.join(textfileDir, 'ferry_audit.prom'), 'utf8');
    expect(prom).toContain('ferry_audit_last_outcome{outcome="ok"} 1');
    expect(prom).toContain(`ferry_audit_products_checked ${N}`);
  });

  it('exits 2 when the api stops midway, keeping the last completed run and saying incomplete', async () => {
    const before = /^ferry_audit_last_run_timestamp_seconds (\d+)$/m.exec(await fs.readFile(path.join(textfileDir, 'ferry_audit.prom'), 'utf8'))![1];
    const child = spawnFerryctl(['audit', '--page-size', '5', '--textfile-dir', textfileDir], { ...env, FERRY_RETRY_SECONDS: '3' });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await waitFor(() => (stdout.match(/^ok /gm) ?? []).length >= 20, 120_000, 'the audit under way');
    await stack.stopApi();
    const code = await exited;
    expect(code).toBe(2);
    expect(stdout).toMatch(/audit INCOMPLETE after \d+ product\(s\)/);
    expect(stderr).toMatch(/audit could not finish/);
    const prom = await fs.readFile(path.join(textfileDir, 'ferry_audit.prom'), 'utf8');
    expect(prom).toContain('ferry_audit_last_outcome{outcome="incomplete"} 1');
    expect(prom).toContain(`ferry_audit_last_run_timestamp_seconds ${before}`);
    // And retry-all, with the api gone, gives up after its retries with exit 2.
    const retry = await ferryctl(['retry-all', '--wait', '10'], { ...env, FERRY_RETRY_SECONDS: '2' });
    expect(retry.code).toBe(2);
  });

  it('exits 2 when the api stops midway through retry-all --wait, after a summary of what it saw', async () => {
    await stack.startApi();
    // Products re-queued while publishing is paused stay queued, so the wait is still polling when the api stops.
    const M = 40;
    await stack.db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, size_bytes, file_count, publish_attempts, error_class, publish_error)
       SELECT 'w' || g, 'image', 'bulk/p' || g || '.fits', 'wait/w' || g || '.fits', 'file', 'failed', length('pixels ' || g), 1, 1, 'io_error', 'EIO'
         FROM generate_series(0, $1 - 1) g`, [M]);
    const pause = await ferryctl(['pause', '--reason', 'holding the retried products in the queue'], env);
    expect({ code: pause.code, stderr: pause.stderr }).toEqual({ code: 0, stderr: '' });
    const logBefore = nginx.accessLog().length;
    const child = spawnFerryctl(['retry-all', '--limit', String(M), '--wait', '600'], { ...env, FERRY_RETRY_SECONDS: '3' });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    // In progress: every product re-queued, and its wait has read each of them through nginx at least once.
    const waitReads = () => new Set(nginx.accessLog().slice(logBefore)
      .filter((l) => l.method === 'GET' && String(l.status) === '200' && /^\/api\/products\/w\d+$/.test(String(l.uri)))
      .map((l) => l.uri)).size;
    await waitFor(() => stdout.includes(`${M} of ${M} re-queued`) && waitReads() === M, 120_000, 'the wait under way');
    await stack.stopApi();
    const code = await exited;
    expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^ferryctl: (API unavailable \(50[234]\)|cannot reach the API)[^\n]*\n$/) });
    expect(stdout).toMatch(new RegExp(`wait interrupted: 0 published, 0 failed, ${M} still pending`));
    // Nothing was published behind its back: the pause held every product.
    const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM products WHERE data_id LIKE 'w%' AND status = 'published'`);
    expect(rows[0].n).toBe(0);
  });
});
