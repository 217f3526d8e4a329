import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFile } from '../support/dirs';
import { waitFor } from '../support/wait-for';
import { ADMIN_TOKEN, adminEnv, ferryctl, startStack, type FerryStack } from './ferryctl-harness';

jest.setTimeout(180_000);

// The operator verbs end to end: a real api and worker (dist/), ferryctl as a child process, real
// PostgreSQL, Redis and file systems.
describe('lifecycle verbs with a real worker', () => {
  let stack: FerryStack;
  let env: Record<string, string>;

  const api = async <T = Record<string, unknown>>(p: string): Promise<T> => {
    const res = await fetch(`${stack.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return (await res.json()) as T;
  };
  const product = (id: string) => api<Record<string, unknown> & { status: string; events: { event: string; created_at: string; actor: string | null; reason: string | null }[] }>(`/api/products/${id}`);
  const statusOf = async (id: string) => (await product(id)).status;
  const exists = (p: string) => fs.access(p).then(() => true, () => false);

  beforeAll(async () => {
    stack = await startStack({ PUBLISH_CONTROL_REFRESH_SECONDS: '0.3', WORKER_HEARTBEAT_INTERVAL_SECONDS: '0.3', PUBLISH_CONCURRENCY: '2' });
    await stack.startWorker();
    env = { ...adminEnv(stack), PRODUCTS_ROOT: stack.roots.productsRoot };
  });
  afterAll(() => stack.close());

  it('retracts a published product: files moved aside, never deleted; registry, status and audit agree', async () => {
    await writeFile(stack.roots.stageRoot, 'images/cal-1.fits', 'calibrated pixels');
    await stack.register({ data_id: 'cal-1', data_type: 'image', stage_path: 'images/cal-1.fits' });
    await waitFor(async () => (await statusOf('cal-1')) === 'published', 30_000, 'cal-1 published');

    const res = await ferryctl(['retract', 'cal-1', '--reason', 'bad calibration table', '--json'], env);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ data_id: 'cal-1', status: 'retracted', move: 'pending' });
    const p = (await waitFor(async () => {
      const x = await product('cal-1');
      return x.retracted_path ? x : undefined;
    }, 30_000, 'the worker to move cal-1 aside'))!;
    expect(p.retracted_path).toBe('.ferry-retracted/images/cal-1.fits');
    expect(await exists(path.join(stack.roots.productsRoot, 'images/cal-1.fits'))).toBe(false);
    expect(await fs.readFile(path.join(stack.roots.productsRoot, '.ferry-retracted/images/cal-1.fits'), 'utf8')).toBe('calibrated pixels');
    expect(p.events.map((e) => e.event).slice(-2)).toEqual(['retracted', 'retraction_moved']);
    expect(p.events.find((e) => e.event === 'retracted')).toMatchObject({ actor: 'bootstrap-admin', reason: 'bad calibration table' });

    const status = await api<{ total_retracted: number; total_published: number }>('/api/monitoring/publish/status');
    expect(status).toMatchObject({ total_retracted: 1, total_published: 0 });
    // The audit no longer expects the retracted file; the drift report does not call the retraction area unknown files.
    const audit = await ferryctl(['audit', '--json'], env);
    expect(audit.code).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ outcome: 'ok', products_checked: 0, mismatches: 0 });
    const drift = await ferryctl(['reconcile', '--json'], env);
    expect(drift.code).toBe(0);
  });

  it('discards a product that can never publish, removing its source by choice; the failed list showed its class', async () => {
    await writeFile(stack.roots.stageRoot, 'images/bad-1.fits', 'pixels');
    await stack.register({ data_id: 'bad-1', data_type: 'image', stage_path: 'images/bad-1.fits', expected_sha256: 'f'.repeat(64) });
    await waitFor(async () => (await statusOf('bad-1')) === 'failed', 30_000, 'bad-1 failed');
    const failed = await ferryctl(['failed'], { ...env, COLUMNS: '60' });
    expect(failed.stdout).toMatch(/bad-1\s+image\s+checksum_mismatch\s+1\s+\d{4}-/);
    // The whole message, wrapped to 60 columns.
    const message = failed.stdout.split('\n').filter((l) => l.startsWith('    '));
    expect(message.every((l) => l.length <= 60)).toBe(true);
    expect(message.map((l) => l.trim()).join(' ')).toContain('f'.repeat(20));

    const res = await ferryctl(['discard', 'bad-1', '--reason', 'producer sent a wrong digest', '--remove-source'], env);
    expect(res.code).toBe(0);
    await waitFor(async () => !(await exists(path.join(stack.roots.stageRoot, 'images/bad-1.fits'))), 30_000, 'the source removed');
    const p = (await waitFor(async () => {
      const x = await product('bad-1');
      return x.events.some((e) => e.event === 'discarded_source_removed') ? x : undefined;
    }, 30_000, 'the removal recorded'))!;
    expect(p.status).toBe('discarded');
    const status = await api<{ total_discarded: number; failed_publishes: number }>('/api/monitoring/publish/status');
    expect(status).toMatchObject({ total_discarded: 1, failed_publishes: 0 });
  });

  it('keeps a copy within 10 % of the bandwidth limit set at run time, with progress moving in status', async () => {
    const size = 32 * 1000 * 1000;
    const limit = 4_000_000;
    expect((await ferryctl(['bandwidth', String(limit), '--reason', 'test'], env)).code).toBe(0);
    // Wait until the worker applied it: it reports the limit in force with its heartbeat.
    await waitFor(async () => (await api<{ workers: { bandwidth_limit_bytes_per_sec: number }[] }>('/api/status')).workers[0]?.bandwidth_limit_bytes_per_sec === limit,
      10_000, 'the worker to apply the limit');
    await fs.mkdir(path.join(stack.roots.stageRoot, 'big'), { recursive: true });
    await fs.writeFile(path.join(stack.roots.stageRoot, 'big/large-1.fits'), Buffer.alloc(size, 7));
    await stack.register({ data_id: 'large-1', data_type: 'image', stage_path: 'big/large-1.fits' });

    // Samples of (heartbeat time, bytes copied) as the worker reports them with its heartbeat.
    const seen: { at: number; bytes: number; eta: number | null }[] = [];
    await waitFor(async () => {
      const s = await api<{ workers: { last_seen: string; copies: { data_id: string; copied_bytes: number; eta_seconds: number | null }[] }[] }>('/api/status');
      for (const w of s.workers) {
        const copy = w.copies.find((c) => c.data_id === 'large-1');
        if (copy && seen.at(-1)?.bytes !== copy.copied_bytes) seen.push({ at: Date.parse(w.last_seen), bytes: copy.copied_bytes, eta: copy.eta_seconds });
      }
      return (await statusOf('large-1')) === 'published';
    }, 60_000, 'large-1 published', 100);
    // Progress moved many times while the copy ran, never backwards, with an ETA.
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen.map((x) => x.bytes)).toEqual([...seen.map((x) => x.bytes)].sort((a, b) => a - b));
    expect(seen.some((x) => x.eta !== null && x.eta > 0)).toBe(true);
    // The copy rate between the first and last sample, against the limit.
    const first = seen[0]!;
    const last = seen.at(-1)!;
    const rate = (last.bytes - first.bytes) / ((last.at - first.at) / 1000);
    expect(Math.abs(rate - limit) / limit).toBeLessThan(0.1);
    // From claim to commit (scan, copy, fsync, place) the whole publish stays within 10 % of the
    // limit too: the budget starts with one chunk in hand, so a short copy may run a little over.
    const events = (await product('large-1')).events;
    const claimed = Date.parse(events.find((e) => e.event === 'claimed')!.created_at);
    const published = Date.parse(events.find((e) => e.event === 'published')!.created_at);
    expect(size / ((published - claimed) / 1000)).toBeLessThan(limit * 1.1);
    process.stdout.write(`bandwidth: limit ${limit} B/s, copy ${Math.round(rate)} B/s over ${seen.length} samples, claim to commit ${Math.round(size / ((published - claimed) / 1000))} B/s\n`);
    expect(createHash('sha256').update(await fs.readFile(path.join(stack.roots.productsRoot, 'big/large-1.fits'))).digest('hex'))
      .toBe(createHash('sha256').update(Buffer.alloc(size, 7)).digest('hex'));
  });

  it('pauses with a copy running: the copy finishes, no new claim, status shows the pause; resume publishes the rest', async () => {
    await fs.writeFile(path.join(stack.roots.stageRoot, 'big/large-2.fits'), Buffer.alloc(12 * 1000 * 1000, 3));
    await stack.register({ data_id: 'large-2', data_type: 'image', stage_path: 'big/large-2.fits' });
    await waitFor(async () => (await api<{ workers: { copies: { data_id: string }[] }[] }>('/api/status')).workers.some((w) => w.copies.some((c) => c.data_id === 'large-2')),
      30_000, 'large-2 copying');
    expect((await ferryctl(['pause', '--reason', 'volume maintenance'], env)).code).toBe(0);
    await writeFile(stack.roots.stageRoot, 'images/later-1.fits', 'later');
    await stack.register({ data_id: 'later-1', data_type: 'image', stage_path: 'images/later-1.fits' });

    await waitFor(async () => (await statusOf('large-2')) === 'published', 60_000, 'the running copy to finish');
    // The paused job waits in the delayed set, unclaimed.
    await waitFor(async () => (await api<{ queue: { delayed: number } }>('/api/status')).queue.delayed >= 1, 30_000, 'later-1 delayed by the pause');
    const later = await product('later-1');
    expect(later.status).toBe('staging');
    expect(later.events.map((e) => e.event)).toEqual(['registered']);
    const st = await ferryctl(['status'], env);
    expect(st.stdout).toMatch(/paused\s+all \(bootstrap-admin: volume maintenance\)/);
    const status = await api<{ oldest_waiting_age_seconds: number; paused: unknown[] }>('/api/monitoring/publish/status');
    expect(status).toMatchObject({ oldest_waiting_age_seconds: 0, paused: [expect.objectContaining({ scope: '*' })] });

    expect((await ferryctl(['resume'], env)).code).toBe(0);
    await waitFor(async () => (await statusOf('later-1')) === 'published', 30_000, 'later-1 published after resume');
    expect((await ferryctl(['bandwidth', 'default'], env)).code).toBe(0);
  });

  it('retracts a product naming what was derived from it, and links the correction that supersedes it both ways', async () => {
    await writeFile(stack.roots.stageRoot, 'images/base-1.fits', 'base pixels');
    await stack.register({ data_id: 'base-1', data_type: 'image', stage_path: 'images/base-1.fits' });
    await writeFile(stack.roots.stageRoot, 'images/deriv-1.fits', 'derived pixels');
    await stack.register({ data_id: 'deriv-1', data_type: 'image', stage_path: 'images/deriv-1.fits', derived_from: ['base-1'] });
    await waitFor(async () => (await statusOf('base-1')) === 'published' && (await statusOf('deriv-1')) === 'published', 30_000, 'both published');

    const retract = await ferryctl(['retract', 'base-1', '--reason', 'bad flat field'], env);
    expect({ code: retract.code, stderr: retract.stderr }).toEqual({ code: 0, stderr: '' });
    expect(retract.stdout).toContain('1 product(s) derived from base-1 may need retracting too:');
    expect(retract.stdout).toMatch(/^1\s+deriv-1\s+image\s+published$/m);
    // Ferry names the descendant and leaves it alone.
    expect(await statusOf('deriv-1')).toBe('published');

    await writeFile(stack.roots.stageRoot, 'images/base-1b.fits', 'corrected base pixels');
    const fixed = await stack.register({ data_id: 'base-1b', data_type: 'image', stage_path: 'images/base-1b.fits', supersedes: 'base-1' });
    expect(fixed.supersedes).toBe('base-1');
    const oldShow = await ferryctl(['products', 'show', 'base-1'], env);
    expect(oldShow.stdout).toMatch(/^superseded_by\s+base-1b$/m);
    const newShow = await ferryctl(['products', 'show', 'base-1b'], env);
    expect(newShow.stdout).toMatch(/^supersedes\s+base-1$/m);
  });
});
