import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Reservoir } from './reservoir';
import { AUDIT_METRICS_FILE, renderAuditMetrics, writeTextfile } from './textfile-metrics';
import { Throttle } from './throttle';

describe('Throttle', () => {
  it('waits until the bytes read fit the rate', async () => {
    let now = 0;
    const waits: number[] = [];
    const t = new Throttle(1000, () => now, async (ms) => {
      waits.push(ms);
      now += ms;
    });
    await t.consume(500); // due at 500 ms, 0 elapsed
    now += 100;
    await t.consume(500); // due at 1000 ms, 600 elapsed
    expect(waits).toEqual([500, 400]);
    expect(t.total).toBe(1000);
  });

  it('never waits without a rate', async () => {
    const waits: number[] = [];
    const t = new Throttle(undefined, () => 0, async (ms) => waits.push(ms));
    await t.consume(1e9);
    expect(waits).toEqual([]);
  });
});

describe('Reservoir', () => {
  it('keeps everything while fewer items than the sample size arrive', () => {
    const r = new Reservoir<number>(5);
    [1, 2, 3].forEach((n) => r.offer(n));
    expect(r.sample).toEqual([1, 2, 3]);
  });

  it('keeps exactly the sample size of distinct offered items', () => {
    const r = new Reservoir<number>(10);
    for (let i = 0; i < 1000; i++) r.offer(i);
    expect(r.sample).toHaveLength(10);
    expect(new Set(r.sample).size).toBe(10);
    expect(r.offered).toBe(1000);
  });

  it('replaces kept items as the random source decides', () => {
    const r = new Reservoir<string>(1, () => 0);
    ['a', 'b', 'c'].forEach((x) => r.offer(x));
    expect(r.sample).toEqual(['c']);
    const keep = new Reservoir<string>(1, () => 0.99);
    ['a', 'b', 'c'].forEach((x) => keep.offer(x));
    expect(keep.sample).toEqual(['a']);
  });
});

describe('audit textfile metrics', () => {
  let dir: string;
  beforeEach(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferryctl-textfile-'))));
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const text = renderAuditMetrics({ finishedAt: new Date('2026-01-02T03:04:05Z'), mismatches: 2, productsChecked: 7, bytesChecked: 1234 });

  it('holds the last-run timestamp and the mismatch count', () => {
    expect(text).toContain('ferry_audit_last_run_timestamp_seconds 1767323045\n');
    expect(text).toContain('ferry_audit_mismatches 2\n');
    expect(text).toContain('# TYPE ferry_audit_mismatches gauge\n');
  });

  it('passes promtool check metrics', () => {
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('writes the file by rename, leaving no temporary file behind', async () => {
    await fs.writeFile(path.join(dir, AUDIT_METRICS_FILE), 'old');
    const file = await writeTextfile(dir, AUDIT_METRICS_FILE, text);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
    expect(await fs.readdir(dir)).toEqual([AUDIT_METRICS_FILE]);
  });
});
