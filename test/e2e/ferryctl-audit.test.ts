import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFile } from '../support/dirs';
import { waitFor } from '../support/wait-for';
import { adminEnv, ferryctl, startStack, type FerryStack } from './ferryctl-harness';

interface AuditJson {
  products_checked: number;
  bytes_checked: number;
  mismatches: number;
  sampled_from?: number;
  mismatched: { data_id: string; findings: { kind: string; path: string }[] }[];
}

// The project-level testTimeout is not applied when several projects run together: set it here.
jest.setTimeout(120_000);

// ferryctl audit re-hashes real published products (published by a real worker) under the
// products root, then finds the damage the test does to that root.
describe('ferryctl audit', () => {
  let stack: FerryStack;
  let env: Record<string, string>;
  let textfileDir: string;

  const products: [string, string, string, string | Record<string, string>][] = [
    ['flip-1', 'image', 'images/flip-1.fits', 'pixels of flip-1 '.repeat(100)],
    ['gone-1', 'image', 'images/gone-1.fits', 'pixels of gone-1'],
    ['set-1', 'ms', 'ms/set-1.ms', { 'table.f0': 'column data', 'sub/meta': 'meta' }],
    ['ok-1', 'mosaic', 'mosaics/ok-1.fits', 'mosaic'],
  ];

  beforeAll(async () => {
    stack = await startStack();
    await stack.startWorker();
    env = { ...adminEnv(stack), PRODUCTS_ROOT: stack.roots.productsRoot };
    textfileDir = path.join(stack.roots.base, 'textfile');
    await fs.mkdir(textfileDir);
    for (const [dataId, dataType, rel, content] of products) {
      if (typeof content === 'string') await writeFile(stack.roots.stageRoot, rel, content);
      else for (const [name, c] of Object.entries(content)) await writeFile(stack.roots.stageRoot, `${rel}/${name}`, c);
      await stack.register({ data_id: dataId, data_type: dataType, stage_path: rel });
    }
    await waitFor(
      async () => (await stack.db.pool.query(`SELECT 1 FROM products WHERE status = 'published'`)).rowCount === products.length,
      60_000,
      'every product published',
    );
  }, 120_000);
  afterAll(async () => stack?.close());

  const metrics = () => fs.readFile(path.join(textfileDir, 'ferry_audit.prom'), 'utf8');

  it('passes an intact archive, exit 0, and records 0 mismatches in the textfile', async () => {
    const r = await ferryctl(['audit', '--textfile-dir', textfileDir, '--rate-mb-s', '5'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audited 4 product\(s\), .*: 0 mismatch\(es\)$/m);
    const text = await metrics();
    expect(text).toContain('ferry_audit_mismatches 0\n');
    expect(text).toContain('ferry_audit_products_checked 4\n');
    const ts = Number(/ferry_audit_last_run_timestamp_seconds (\d+)/.exec(text)?.[1]);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(120);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });

  it('finds a flipped byte, a missing file and an extra file, exit 1, and records them', async () => {
    const root = stack.roots.productsRoot;
    const flip = path.join(root, 'images/flip-1.fits');
    const bytes = await fs.readFile(flip);
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    await fs.writeFile(flip, bytes);
    await fs.rm(path.join(root, 'images/gone-1.fits'));
    await fs.writeFile(path.join(root, 'ms/set-1.ms/sub/stray.tmp'), 'not part of the product');

    const r = await ferryctl(['audit', '--json', '--textfile-dir', textfileDir], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as AuditJson;
    expect(out).toMatchObject({ products_checked: 4, mismatches: 3 });
    const found = Object.fromEntries(out.mismatched.map((m) => [m.data_id, m.findings.map((f) => `${f.kind} ${f.path}`)]));
    expect(found).toEqual({ 'flip-1': ['changed .'], 'gone-1': ['missing .'], 'set-1': ['extra sub/stray.tmp'] });
    expect(await metrics()).toContain('ferry_audit_mismatches 3\n');
    expect((await fs.readdir(textfileDir)).sort()).toEqual(['ferry_audit.prom']);

    const text = await ferryctl(['audit'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('MISMATCH gone-1 missing .: ');
    expect(text.stdout).toContain('MISMATCH set-1 extra sub/stray.tmp: file is not in the manifest');
  });

  it('finds a file removed from a directory product', async () => {
    await fs.rm(path.join(stack.roots.productsRoot, 'ms/set-1.ms/table.f0'));
    const r = await ferryctl(['audit', '--data-type', 'ms', '--json'], env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as AuditJson;
    expect(out.products_checked).toBe(1);
    expect(out.mismatched[0]?.findings.map((f) => `${f.kind} ${f.path}`)).toEqual(['missing table.f0', 'extra sub/stray.tmp']);
  });

  it('audits only the type asked for, and a random sample of N', async () => {
    const mosaic = await ferryctl(['audit', '--data-type', 'mosaic', '--products-root', stack.roots.productsRoot], { FERRY_URL: stack.url, FERRY_TOKEN: env.FERRY_TOKEN ?? '' });
    expect(mosaic.code).toBe(0);
    expect(mosaic.stdout).toMatch(/audited 1 product\(s\)/);
    const sample = await ferryctl(['audit', '--sample', '2', '--json', '--page-size', '1'], env);
    const out = JSON.parse(sample.stdout) as AuditJson;
    expect(out).toMatchObject({ products_checked: 2, sampled_from: 4 });
  });

  it('exits 2 when the API refuses the token, and its metrics say incomplete while keeping the last completed run', async () => {
    const before = /^ferry_audit_last_run_timestamp_seconds (\d+)$/m.exec(await metrics())?.[1];
    const r = await ferryctl(['audit', '--textfile-dir', textfileDir], { ...env, FERRY_TOKEN: 'refused-token-refused-token-0000' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ferryctl: audit could not finish: token refused \(401\)/);
    const after = await metrics();
    expect(after).toContain('ferry_audit_last_outcome{outcome="incomplete"} 1');
    if (before) expect(after).toContain(`ferry_audit_last_run_timestamp_seconds ${before}`);
  });
});
