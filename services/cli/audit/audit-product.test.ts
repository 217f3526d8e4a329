import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { directoryDigest } from '../../core/publish/manifest';
import type { ManifestEntry, Product } from '../http/api-types';
import { auditProduct, productLocation } from './audit-product';
import { Throttle } from './throttle';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function fileProduct(rel: string, content: string): Product {
  return {
    data_id: 'f1', data_type: 'image', stage_path: rel, published_path: rel, kind: 'file', status: 'published',
    size_bytes: Buffer.byteLength(content), file_count: 1, checksum_sha256: sha(content), manifest: null,
    publish_attempts: 1, publish_error: null, created_at: '2026-01-01T00:00:00Z', published_at: '2026-01-01T00:00:01Z',
    destination_path: rel, expected_sha256: null, error_class: null, lease_owner: null, lease_expires_at: null, metadata: {},
    staged_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:01Z', next_attempt_at: null, held: false, retracted_path: null, supersedes: null,
  };
}

function dirProduct(rel: string, files: Record<string, string>, withManifest = true): Product {
  const manifest: ManifestEntry[] = Object.entries(files).map(([p, c]) => ({ path: p, size: Buffer.byteLength(c), sha256: sha(c) }));
  return { ...fileProduct(rel, ''), data_id: 'd1', kind: 'directory', file_count: manifest.length, checksum_sha256: directoryDigest(manifest), manifest: withManifest ? manifest : null };
}

describe('auditProduct', () => {
  let root: string;
  const files = { 'a.txt': 'alpha', 'sub/b.bin': 'bravo bravo' };

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ferryctl-audit-'));
    await fs.mkdir(path.join(root, 'img'), { recursive: true });
    await fs.writeFile(path.join(root, 'img', 'one.fits'), 'hello world');
    await fs.mkdir(path.join(root, 'ms', 'set.ms', 'sub'), { recursive: true });
    for (const [p, c] of Object.entries(files)) await fs.writeFile(path.join(root, 'ms', 'set.ms', p), c);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  const audit = (p: Product) => auditProduct(p, root, new Throttle(undefined));

  it('passes an intact file product and counts its bytes', async () => {
    const r = await audit(fileProduct('img/one.fits', 'hello world'));
    expect(r).toMatchObject({ ok: true, files_checked: 1, bytes_checked: 11, findings: [] });
  });

  it('finds a flipped byte in a file product', async () => {
    await fs.writeFile(path.join(root, 'img', 'one.fits'), 'hello worle');
    const r = await audit(fileProduct('img/one.fits', 'hello world'));
    expect(r.ok).toBe(false);
    expect(r.findings).toEqual([{ kind: 'changed', path: '.', detail: expect.stringContaining('registry says') }]);
  });

  it('finds a missing file product', async () => {
    await fs.rm(path.join(root, 'img', 'one.fits'));
    const r = await audit(fileProduct('img/one.fits', 'hello world'));
    expect(r.findings).toEqual([{ kind: 'missing', path: '.', detail: expect.any(String) }]);
  });

  it('passes an intact directory product', async () => {
    const r = await audit(dirProduct('ms/set.ms', files));
    expect(r).toMatchObject({ ok: true, files_checked: 2, findings: [] });
  });

  it('names the missing, changed and extra files of a directory product', async () => {
    const dir = path.join(root, 'ms', 'set.ms');
    await fs.rm(path.join(dir, 'a.txt'));
    await fs.writeFile(path.join(dir, 'sub', 'b.bin'), 'bravo Bravo');
    await fs.writeFile(path.join(dir, 'sub', 'stray.tmp'), 'x');
    const r = await audit(dirProduct('ms/set.ms', files));
    expect(r.ok).toBe(false);
    expect(r.findings.map((f) => [f.kind, f.path])).toEqual([
      ['missing', 'a.txt'],
      ['changed', 'sub/b.bin'],
      ['extra', 'sub/stray.tmp'],
    ]);
  });

  it('detects a change in a directory product from its digest when the API gives no manifest', async () => {
    expect((await audit(dirProduct('ms/set.ms', files, false))).ok).toBe(true);
    await fs.writeFile(path.join(root, 'ms', 'set.ms', 'extra'), 'x');
    const r = await audit(dirProduct('ms/set.ms', files, false));
    expect(r.findings).toEqual([{ kind: 'changed', path: '.', detail: expect.stringContaining('3 files found, registry says 2') }]);
  });

  it('refuses a published path that escapes the products root', async () => {
    expect(productLocation(root, { published_path: '../etc/passwd' })).toBeUndefined();
    expect(productLocation(root, { published_path: '/etc/passwd' })).toBeUndefined();
    expect(productLocation(root, { published_path: path.join(root, 'img/one.fits') })).toBe(path.join(root, 'img/one.fits'));
    const r = await audit(fileProduct('../outside', 'x'));
    expect(r.findings[0]?.kind).toBe('unverifiable');
  });
});
