import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { request as pwRequest, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { cspViolations, launchChromium, RECORD_CSP_VIOLATIONS, SCREENSHOT_DIR, seriousAxeViolations } from '../support/browser';
import { startApiBehindNginx, type ApiBehindNginx } from '../support/api-behind-nginx';
import type { TestDatabase } from '../support/database';
import { writeFile, type TestRoots } from '../support/dirs';
import type { NginxUnderTest } from '../support/nginx';
import { waitFor } from '../support/wait-for';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/worker-process';
import { TEST_ADMIN_TOKEN } from '../support/tokens';

// The console in Debian's Chromium, through the production nginx configuration with TLS, in front
// of a real api and worker: every click an operator makes, and every refusal an attacker meets.

jest.setTimeout(240000);

const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

let stack: ApiBehindNginx;
let cert: string;
let db: TestDatabase;
let roots: TestRoots;
let worker: WorkerProcess;
let nginx: NginxUnderTest;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
const consoleMessages: string[] = [];

/** A JSON call to the API through nginx with the admin token. */
function callApi(method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({
      host: '127.0.0.1', port: nginx.ports.https, servername: 'localhost', ca: fs.readFileSync(cert), method, path: p, agent: false,
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(data)) } : { 'Content-Length': '0' }) },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) as Record<string, unknown> : {} }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Stages a file and registers it through the API. */
async function register(dataId: string, content: string, extra: Record<string, unknown> = {}): Promise<void> {
  await writeFile(roots.stageRoot, `images/${dataId}.fits`, content);
  const res = await callApi('POST', '/api/products', { data_id: dataId, data_type: 'image', stage_path: `images/${dataId}.fits`, ...extra });
  expect(res.status).toBe(201);
}

async function productStatus(dataId: string): Promise<string> {
  return (await db.pool.query<{ status: string }>('SELECT status FROM products WHERE data_id = $1', [dataId])).rows[0]!.status;
}

/**
 * The checks every page passes: the console CSP on its answer, no CSP violation reported, no
 * serious or critical axe-core finding; then a full-page screenshot.
 */
async function checkPage(response: Response | null, name: string): Promise<void> {
  expect(response?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
  await page.waitForLoadState('load');
  expect(await seriousAxeViolations(page)).toEqual([]);
  expect(await cspViolations(page)).toEqual([]);
  await screenshot(name);
}

/**
 * A full-page screenshot. caret 'initial': hiding the caret makes Playwright set and later clear an
 * inline style on every input, which the console's CSP rightly refuses (and reports, after the fact).
 */
async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, caret: 'initial' });
}

async function signIn(token: string): Promise<void> {
  const r = await page.goto(`${base}/console/sign-in`);
  if (token === TEST_ADMIN_TOKEN) await checkPage(r, 'sign-in');
  await page.getByLabel('API token').fill(token);
  await Promise.all([page.waitForURL(`${base}/console`), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** The CSRF token the current page's forms carry. */
function pageCsrf(): Promise<string> {
  return page.locator('input[name="_csrf"]').first().inputValue();
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  stack = await startApiBehindNginx({
    PUBLISH_MODE: 'copy',
    CONSOLE_STAGE_HOST_PATH: '/srv/ferry-data/stage', CONSOLE_PRODUCTS_HOST_PATH: '/srv/ferry-data/products', CONSOLE_GRAFANA_URL: 'https://grafana.example.org',
  });
  ({ cert, db, roots, nginx } = stack);
  worker = spawnWorker(stack.env({
    FERRY_INSTANCE: 'console-e2e-worker', METRICS_PORT: '0', LOG_LEVEL: 'info', PUBLISH_MODE: 'copy', RECONCILE_INTERVAL_SECONDS: '1',
    WORKER_HEARTBEAT_INTERVAL_SECONDS: '1', WORKER_HEARTBEAT_FILE: path.join(roots.base, 'worker.heartbeat'),
  }));
  await worker.waitForLog((l) => l.message === 'worker started', 60000);
  base = `https://localhost:${nginx.ports.https}`;

  browser = await launchChromium([nginx.ports.https]);
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(RECORD_CSP_VIOLATIONS);
  page = await context.newPage();
  page.on('console', (m) => {
    consoleMessages.push(`${m.type()}: ${m.text()}`);
  });
}, 180000);

afterAll(async () => {
  await browser?.close();
  await killWorker(worker);
  await stack?.stop();
}, 60000);

describe('the operator console in a browser', () => {
  it('signs in with the admin token and shows the overview, the worker and the 24 h chart', async () => {
    await signIn(TEST_ADMIN_TOKEN);
    const r = await page.reload();
    expect(await page.locator('h1').textContent()).toBe('Overview');
    await page.locator('#overview-live td', { hasText: 'console-e2e-worker' }).waitFor({ timeout: 20000 });
    expect(await page.locator('figure.chart svg').count()).toBe(1);
    await checkPage(r, 'overview');
  });

  it('shows a product go from staged to published without reloading the page', async () => {
    await register('live-1', 'x'.repeat(4096), { auto_publish: false, metadata: { field: '3C286' } });
    const r = await page.goto(`${base}/console/products/live-1`);
    expect(await page.locator('#product-state').textContent()).toBe('staging (held)');
    await checkPage(r, 'product-staged');
    // A marker on the window survives only if the page is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true));
    await page.locator('[sse-connect]').waitFor({ state: 'attached' });
    expect((await callApi('POST', '/api/products/live-1/publish')).status).toBe(202);
    await page.locator('#product-state', { hasText: /^published$/ }).waitFor({ timeout: 30000 });
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await page.locator('.timeline').textContent()).toContain('published');
    expect(await page.locator('main').textContent()).toContain('/srv/ferry-data/products/images/live-1.fits');
    await screenshot('product');
  });

  it('finds products by metadata and data_id prefix, newest first', async () => {
    const r = await page.goto(`${base}/console/products`);
    await page.getByLabel('Metadata key=value').fill('field=3C286');
    await page.getByLabel('data_id starts with').fill('live');
    await Promise.all([page.waitForURL(/\/console\/products\?/), page.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.locator('table.products tbody tr').count()).toBe(1);
    expect(await page.locator('table.products').textContent()).toContain('live-1');
    await checkPage(r, 'products');
  });

  it('opens a failure from the failures page and shows its cause', async () => {
    await register('bad-sum-1', 'y'.repeat(1000), { expected_sha256: 'a'.repeat(64) });
    await register('bad-sum-2', 'z'.repeat(1000), { expected_sha256: 'b'.repeat(64) });
    await waitFor(async () => (await productStatus('bad-sum-1')) === 'failed' && (await productStatus('bad-sum-2')) === 'failed', 30000, 'both products failed');
    const r = await page.goto(`${base}/console/failures`);
    expect(await page.locator('main table').first().textContent()).toContain('checksum_mismatch');
    await checkPage(r, 'failures');
    await Promise.all([page.waitForURL(/\/console\/products\/bad-sum-/), page.locator('main table').first().getByRole('link', { name: /^bad-sum-/ }).click()]);
    expect(await page.locator('#product-error').textContent()).toMatch(/checksum|SHA-256|sha256/i);
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(1);
  });

  it('bulk-retries a group only after its dry-run preview', async () => {
    await page.goto(`${base}/console/failures`);
    await page.getByLabel('Select the group checksum_mismatch').check();
    const preview = await Promise.all([page.waitForURL(/\/console\/failures\/preview/), page.getByRole('button', { name: 'Preview' }).click()]).then(() => page);
    expect(await preview.locator('h1').textContent()).toBe('Dry run: retry 2 products');
    expect(await productStatus('bad-sum-1')).toBe('failed');
    await checkPage(await page.reload(), 'failures-preview');
    await Promise.all([page.waitForURL(/\/console\/failures\/retry/), page.getByRole('button', { name: 'Retry these 2' }).click()]);
    expect(await page.locator('[role=status]').textContent()).toBe('2 of 2 done.');
    const events = await db.pool.query("SELECT count(*)::int AS n FROM product_events WHERE event = 'retry_requested'");
    expect(events.rows[0].n).toBe(2);
  });

  it('discards a failed product from its page, with its reason', async () => {
    await waitFor(async () => (await productStatus('bad-sum-2')) === 'failed', 30000, 'bad-sum-2 failed again');
    await page.goto(`${base}/console/products/bad-sum-2`);
    await page.locator('#discard-reason').fill('wrong checksum from the pipeline; re-registered as bad-sum-2b');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Discard' }).click()]);
    await page.locator('#product-state', { hasText: /^discarded$/ }).waitFor({ timeout: 10000 });
    expect(await productStatus('bad-sum-2')).toBe('discarded');
    await checkPage(await page.goto(`${base}/console/discarded`), 'discarded');
    expect(await page.locator('table.products').textContent()).toContain('bad-sum-2');
  });

  it('pauses and resumes publishing, and publishing goes on after the resume', async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel('Reason').fill('storage maintenance');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Pause publishing' }).click()]);
    await page.locator('#pause-state', { hasText: 'paused for all data types' }).waitFor({ timeout: 10000 });
    await checkPage(await page.reload(), 'overview-paused');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Resume all data types' }).click()]);
    await page.locator('#pause-state', { hasText: 'running' }).waitFor({ timeout: 10000 });
    await register('after-resume', 'r'.repeat(512));
    await waitFor(async () => (await productStatus('after-resume')) === 'published', 30000, 'after-resume published');
  });

  it('lists held products, the reconcile report and the tokens, and creates a read token', async () => {
    await register('held-1', 'h'.repeat(100), { auto_publish: false });
    await checkPage(await page.goto(`${base}/console/held`), 'held');
    expect(await page.locator('table.products').textContent()).toContain('held-1');
    await checkPage(await page.goto(`${base}/console/reconcile`), 'reconcile');
    await checkPage(await page.goto(`${base}/console/retracted`), 'retracted');
    await checkPage(await page.goto(`${base}/console/tokens`), 'tokens');
    await page.getByLabel('Name').fill('viewer');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Create token' }).click()]);
    expect(await page.locator('.notice').textContent()).toContain('viewer');
  });

  it('refuses a state-changing POST without the CSRF token: 403', async () => {
    const res = await page.request.post(`${base}/console/products/bad-sum-1/retry`, { form: { nothing: '1' }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('CSRF');
  });

  it('signs out, and the old session is refused', async () => {
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-ferry_console')!;
    const csrf = await pageCsrf();
    await Promise.all([page.waitForURL(`${base}/console/sign-in`), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.goto(`${base}/console/products`);
    expect(page.url()).toBe(`${base}/console/sign-in`);
    const replay = await pwRequest.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: { cookie: `${session.name}=${session.value}` } });
    const res = await replay.post(`${base}/console/products/bad-sum-1/retry`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(res.status()).toBe(401);
    await replay.dispose();
  });

  it('shows a read token no action control, and its forged POST gets 403', async () => {
    const viewer = await callApi('POST', '/api/tokens', { name: 'reader-2', scopes: ['read'] });
    await waitFor(async () => (await productStatus('bad-sum-1')) === 'failed', 30000, 'bad-sum-1 failed again');
    await signIn(viewer.body.token as string);
    await page.goto(`${base}/console/products/bad-sum-1`);
    expect(await page.locator('main button').count()).toBe(0);
    await page.goto(`${base}/console/failures`);
    expect(await page.locator('main button, main input[type=checkbox]').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    const res = await page.request.post(`${base}/console/products/bad-sum-1/retry`, { form: { _csrf: await pageCsrf() }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    expect(await productStatus('bad-sum-1')).toBe('failed');
  });

  it('keeps loading pages while addresses on the machine come and go', async () => {
    // What the container stack and the network-namespace tests do beside this file. A browser that
    // saw it would drop its requests with net::ERR_NETWORK_CHANGED (launchChromium says why not).
    const [a, b] = ['fa', 'fb'].map((side) => `${side}${process.pid % 100000}`) as [string, string];
    execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    for (const end of [a, b]) execFileSync('ip', ['link', 'set', end, 'up']);
    const flap = spawn('bash', ['-c', `while :; do ip addr add 127.200.0.1/32 dev ${a}; sleep 0.02; ip addr del 127.200.0.1/32 dev ${a}; sleep 0.02; done`], { stdio: 'ignore' });
    try {
      // One request per load (the stylesheet, not a page with its scripts and styles): 40 loads
      // stay inside nginx's per-client burst of 60, which whole pages exceeded on a fast machine (429).
      for (let i = 0; i < 40; i++) expect((await page.goto(`${base}/console/assets/console.css`))?.status()).toBe(200);
    } finally {
      flap.kill();
      execFileSync('ip', ['link', 'del', a]);
    }
  });

  it('reported no CSP violation on any page', () => {
    expect(consoleMessages.filter((m) => /Content.Security.Policy/i.test(m))).toEqual([]);
  });
});
