import { emptyRegistry } from '../support/database';
import { seedEvent, seedProduct } from '../support/products';
import { freePort } from '../support/free-port';
import { adminEnv, ferryctl, spawnFerryctl, startStack, type FerryStack } from './ferryctl-harness';

// The project-level testTimeout is not applied when several projects run together: set it here.
jest.setTimeout(120_000);

// ferryctl check and watch as separate processes against a real api (real Postgres and Redis).
// The test owns its database: each case seeds the registry state that crosses one threshold.
describe('ferryctl check and watch', () => {
  let stack: FerryStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Each case seeds a handful of products: the success rate must count from the first one.
    stack = await startStack({ SUCCESS_RATE_MIN_PRODUCTS: '1' });
    env = adminEnv(stack);
  }, 90_000);
  afterAll(async () => stack?.close());

  beforeEach(async () => {
    await emptyRegistry(stack.db.pool);
  });

  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

  async function seedHealthy() {
    const p = await seedProduct(stack.db.pool, { data_id: 'good-1', status: 'published', published_path: 'good-1.fits' });
    await seedEvent(stack.db.pool, p, { from: 'publishing', to: 'published' });
  }

  it('exits 0 with one OK line on a healthy registry', async () => {
    await seedHealthy();
    const r = await ferryctl(['check'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^OK: success rate 100 %, 0 failures in the last hour, 0 staging, 0 failed\n$/);
    expect(await ferryctl(['check', '--quiet'], env)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 1 when the success rate is under 95 %, and 0 when the limit is lowered', async () => {
    // Each product counts by its latest outcome: the flaky one was fixed by its retry, the broken one was not.
    const p = await seedProduct(stack.db.pool, { data_id: 'flaky-1', status: 'published', published_path: 'flaky-1.fits' });
    await seedEvent(stack.db.pool, p, { from: 'publishing', to: 'staging', error_class: 'transient' });
    await seedEvent(stack.db.pool, p, { from: 'publishing', to: 'published' });
    const broken = await seedProduct(stack.db.pool, { data_id: 'broken-1', status: 'failed', publish_attempts: 1, publish_error: 'EIO', created_at: hoursAgo(3) });
    await stack.db.pool.query(`UPDATE products SET updated_at = now() - interval '3 hours' WHERE data_id = 'broken-1'`);
    await seedEvent(stack.db.pool, broken, { from: 'publishing', to: 'failed', error_class: 'io_error', at: hoursAgo(3) });
    const r = await ferryctl(['check', '--json'], env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { healthy: boolean; exit_code: number; alerts: { alert: string; value: number }[] };
    expect(out).toMatchObject({ healthy: false, exit_code: 1 });
    expect(out.alerts).toEqual([expect.objectContaining({ alert: 'success_rate', value: 50, threshold: 95 })]);
    expect((await ferryctl(['check', '--min-success-rate', '40'], env)).code).toBe(0);
    expect((await ferryctl(['check'], { ...env, FERRY_CHECK_MIN_SUCCESS_RATE: '50' })).code).toBe(0);
  });

  it('exits 1 on more than 5 failures in the last hour, counting only the last hour', async () => {
    for (let i = 0; i < 6; i++) await seedProduct(stack.db.pool, { data_id: `fail-${i}`, status: 'failed', publish_attempts: 1, publish_error: 'EIO' });
    const r = await ferryctl(['check'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('CRITICAL: 6 failures in the last hour (more than 5)\n');
    expect((await ferryctl(['check', '-q'], env)).stdout).toBe(r.stdout);
    expect((await ferryctl(['check'], { ...env, FERRY_CHECK_MAX_FAILURES_LAST_HOUR: '6' })).code).toBe(0);
    // A failure from two hours ago is outside the window: back to 5, healthy.
    await stack.db.pool.query(`UPDATE products SET updated_at = now() - interval '2 hours' WHERE data_id = 'fail-0'`);
    expect((await ferryctl(['check'], env)).code).toBe(0);
  });

  it('exits 1 on a product in staging for over 24 h, naming it', async () => {
    await seedProduct(stack.db.pool, { data_id: 'stuck-1', status: 'staging', created_at: hoursAgo(25) });
    await seedProduct(stack.db.pool, { data_id: 'fresh-1', status: 'staging', created_at: hoursAgo(1) });
    const r = await ferryctl(['check', '--json'], env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { alerts: { alert: string; message: string }[]; snapshot: { oldest_staging: { data_id: string } } };
    expect(out.alerts.map((a) => a.alert)).toEqual(['staging_age']);
    expect(out.snapshot.oldest_staging.data_id).toBe('stuck-1');
    expect((await ferryctl(['check', '--max-staging-hours', '48'], env)).code).toBe(0);
    expect((await ferryctl(['check'], { ...env, FERRY_CHECK_MAX_STAGING_HOURS: '26' })).code).toBe(0);
  });

  it('exits 1 when a product is past the maximum attempts', async () => {
    await seedHealthy();
    await seedProduct(stack.db.pool, { data_id: 'dead-1', status: 'failed', publish_attempts: 5, publish_error: 'checksum mismatch', created_at: hoursAgo(3) });
    await stack.db.pool.query(`UPDATE products SET updated_at = now() - interval '3 hours' WHERE data_id = 'dead-1'`);
    const r = await ferryctl(['check'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('CRITICAL: 1 product(s) failed past the maximum attempts\n');
    expect((await ferryctl(['check', '--max-attempts-exceeded', '1'], env)).code).toBe(0);
  });

  it('exits 2 with one line on stderr when the token is refused', async () => {
    const r = await ferryctl(['check'], { ...env, FERRY_TOKEN: 'not-a-real-token-at-all' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ferryctl: token refused \(401\): .+\n$/);
    const json = await ferryctl(['check', '--json'], { ...env, FERRY_TOKEN: 'not-a-real-token-at-all' });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: false, exit_code: 2, error: expect.stringContaining('401') });
  });

  it('exits 2 with one line on stderr when the API cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await ferryctl(['check'], { ...env, FERRY_URL: url });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ferryctl: cannot reach the API at ${url}: connection refused\n`);
  });

  async function watchUntil(signal: NodeJS.Signals, extraEnv: Record<string, string> = {}) {
    const child = spawnFerryctl(['watch', '--interval', '0.2'], { ...env, ...extraEnv });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch printed too little: ${stdout} ${stderr}`)), 30_000);
      child.stdout?.on('data', (b: Buffer) => {
        stdout += b.toString('utf8');
        if (stdout.split('\n').filter(Boolean).length >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill(signal);
    const code = await exited;
    return { code, stderr, lines: stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('watch prints one JSON line per check, with the alert, and stops on SIGTERM with exit 0', async () => {
    await seedProduct(stack.db.pool, { data_id: 'stuck-2', status: 'staging', created_at: hoursAgo(30) });
    const r = await watchUntil('SIGTERM');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines.length).toBeGreaterThanOrEqual(3);
    for (const line of r.lines) {
      expect(line).toMatchObject({ level: 'alert', healthy: false, alerts: [expect.objectContaining({ alert: 'staging_age' })] });
      expect(Date.parse(line.timestamp as string)).not.toBeNaN();
    }
  });

  it('watch stops on SIGINT with exit 0 and reports an unreadable API as an error line', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await watchUntil('SIGINT', { FERRY_URL: url });
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatchObject({ level: 'error', healthy: false, exit_code: 2, error: expect.stringContaining('connection refused') });
  });
});
