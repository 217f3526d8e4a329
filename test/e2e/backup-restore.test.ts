import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { migrationNames } from '../../services/core/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { listDir, REPO_ROOT, runDeployScript, seedProducts, tableDigests } from '../support/backup';
import { createTestRoots, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

// deploy/backup.sh and deploy/restore.sh in native mode against real PostgreSQL 15 with the real
// pg_dump / pg_restore. Timings go to test-output/ for docs/disaster-recovery.md.
describe('registry backup and restore with pg_dump / pg_restore', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let env: Record<string, string>;
  let backupDir: string;
  let safetyDir: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    // A restore terminates every connection to the database, the pool's idle ones included.
    db.pool.on('error', () => undefined);
    roots = await createTestRoots();
    backupDir = path.join(roots.base, 'backups');
    safetyDir = path.join(roots.base, 'safety');
    // FERRY_ROOT is an empty deployment directory: no .env.production is read.
    env = { DATABASE_URL: db.url, BACKUP_DIR: backupDir, FERRY_ROOT: roots.base };
    const t = Date.now();
    await seedProducts(db.pool, 10_000);
    timings.seed_10000_products_ms = Date.now() - t;
  });
  afterAll(async () => {
    await fs.mkdir(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    await fs.writeFile(path.join(REPO_ROOT, 'test-output', 'backup-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await db.drop();
    await roots.cleanup();
  });

  const newestDump = async () => (await listDir(backupDir)).filter((f) => /^ferry-\d{8}T\d{6}Z\.dump$/.test(f)).pop()!;

  it('backs up a registry of 10,000 products and restores it with identical rows', async () => {
    const before = await tableDigests(db.pool);
    expect(before.products).toMatch(/^10000:/);

    const backup = await runDeployScript('backup.sh', [], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    timings.backup_ms = backup.ms;
    const dumpName = await newestDump();
    const dump = path.join(backupDir, dumpName);
    const files = await listDir(backupDir);
    expect(files).toEqual([dumpName, `${dumpName}.sha256`, dumpName.replace(/\.dump$/, '.json')]);

    // The .sha256 is in sha256sum format and matches; the metadata describes the registry.
    const bytes = await fs.readFile(dump);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    expect(await fs.readFile(`${dump}.sha256`, 'utf8')).toBe(`${sha}  ${dumpName}\n`);
    const meta = JSON.parse(await fs.readFile(dump.replace(/\.dump$/, '.json'), 'utf8'));
    const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(meta).toMatchObject({
      status: 'ok',
      ferry_version: pkg.version,
      schema_level: migrationNames().pop(),
      size_bytes: bytes.length,
      sha256: sha,
      database: db.name,
    });
    expect(meta.row_counts).toMatchObject({ products: 10000, product_events: 10000, pgmigrations: migrationNames().length });
    expect(meta.duration_seconds).toBeGreaterThanOrEqual(0);
    expect(bytes.subarray(0, 5).toString()).toBe('PGDMP'); // custom format

    // Wreck the registry, then put the backup back.
    await db.pool.query(`DELETE FROM products WHERE id % 3 = 0`);
    await db.pool.query(`UPDATE products SET status = 'failed', publish_error = 'boom' WHERE id % 7 = 0`);
    expect(await tableDigests(db.pool)).not.toEqual(before);

    const restore = await runDeployScript('restore.sh', ['--yes', '--safety-dir', safetyDir, dump], env);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    timings.restore_ms = restore.ms;
    expect(restore.stdout).toContain('row counts and the product checksum match the metadata');
    // The pool's old connections were terminated by the restore: fresh ones see the restored rows.
    expect(await tableDigests(db.pool).catch(() => tableDigests(db.pool))).toEqual(before);

    // The safety backup holds the wrecked state and is itself a verified backup.
    const safety = (await listDir(safetyDir)).filter((f) => f.endsWith('.dump'));
    expect(safety).toHaveLength(1);
    const safetyMeta = JSON.parse(await fs.readFile(path.join(safetyDir, safety[0]!.replace(/\.dump$/, '.json')), 'utf8'));
    expect(safetyMeta.status).toBe('ok');
    expect(safetyMeta.row_counts.products).toBeLessThan(10000);
  });

  it('refuses a corrupted backup file before touching the database', async () => {
    const good = path.join(backupDir, await newestDump());
    const corrupt = path.join(roots.base, 'corrupt', 'ferry-20200101T000000Z.dump');
    await fs.mkdir(path.dirname(corrupt), { recursive: true });
    const bytes = await fs.readFile(good);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // one flipped byte
    await fs.writeFile(corrupt, bytes);
    await fs.copyFile(`${good}.sha256`, `${corrupt}.sha256`);
    await fs.copyFile(good.replace(/\.dump$/, '.json'), corrupt.replace(/\.dump$/, '.json'));

    await db.pool.query(`INSERT INTO products (data_id, data_type, stage_path, destination_path, kind) VALUES ('after-backup', 'image', 'a', 'after/a', 'file')`);
    const before = await tableDigests(db.pool);
    const safetyBefore = await listDir(safetyDir);

    const res = await runDeployScript('restore.sh', ['--yes', '--safety-dir', safetyDir, corrupt], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/checksum mismatch/);
    expect(await tableDigests(db.pool)).toEqual(before);
    expect(await listDir(safetyDir)).toEqual(safetyBefore); // not even a safety backup was taken

    // An archive without its .sha256 is refused the same way: nothing proves it is intact.
    await fs.rm(`${corrupt}.sha256`);
    await fs.writeFile(corrupt, await fs.readFile(good));
    const unchecked = await runDeployScript('restore.sh', ['--yes', '--safety-dir', safetyDir, corrupt], env);
    expect(unchecked.code).toBe(1);
    expect(unchecked.stderr).toMatch(/sha256 is missing/);
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  it('refuses to restore without --yes when nobody can confirm, changing nothing', async () => {
    const before = await tableDigests(db.pool);
    const res = await runDeployScript('restore.sh', ['--safety-dir', safetyDir, path.join(backupDir, await newestDump())], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/pass --yes/);
    expect(res.stderr).toMatch(/cancelled: nothing was changed/);
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  it('prints usage with --help and exits 0', async () => {
    for (const script of ['backup.sh', 'restore.sh']) {
      const res = await runDeployScript(script, ['--help'], {});
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^Usage: deploy\//);
    }
  });
});
