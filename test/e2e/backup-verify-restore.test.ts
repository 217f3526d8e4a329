import fs from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../support/database';
import { listDir, parseExposition, runDeployScript, seedProducts } from '../support/backup';
import { createTestRoots, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

/** Whether the scratch database a run named in its output still exists (other suites may run their own). */
async function scratchLeft(stdout: string): Promise<boolean> {
  const name = /into scratch database (ferry_verify_\w+)/.exec(stdout)?.[1];
  expect(name).toBeDefined();
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    const res = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    return res.rowCount === 1;
  } finally {
    await c.end();
  }
}

describe('backup.sh --verify-restore', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let env: Record<string, string>;
  let dir: string;
  let metadataFile: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await seedProducts(db.pool, 2000);
    roots = await createTestRoots();
    dir = path.join(roots.base, 'backups');
    env = { DATABASE_URL: db.url, BACKUP_DIR: dir, FERRY_ROOT: roots.base, BACKUP_TEXTFILE_DIR: path.join(roots.base, 'textfile') };
    const res = await runDeployScript('backup.sh', [], env);
    expect(res.code).toBe(0);
    metadataFile = path.join(dir, (await listDir(dir)).find((f) => f.endsWith('.json'))!);
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  const verifyMetric = async () =>
    parseExposition(await fs.readFile(path.join(roots.base, 'textfile', 'ferry_backup_verify_restore.prom'), 'utf8'));

  it('restores the newest backup into a scratch database, finds it matches, and drops the scratch', async () => {
    const res = await runDeployScript('backup.sh', ['--verify-restore'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/restore test of .* ok: \d+ rows in \d+ tables match/);
    expect(await scratchLeft(res.stdout)).toBe(false);
    expect((await verifyMetric()).ferry_backup_verify_restore_last_status).toBe(1);
  });

  it('catches a deliberately altered row count in the metadata', async () => {
    const original = await fs.readFile(metadataFile, 'utf8');
    const meta = JSON.parse(original);
    meta.row_counts.products += 1;
    await fs.writeFile(metadataFile, JSON.stringify(meta));
    try {
      const res = await runDeployScript('backup.sh', ['--verify-restore'], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('does not match its metadata');
      expect(res.stderr).toContain('table products: 2001 rows in the backup\'s metadata, 2000 restored');
      expect(await scratchLeft(res.stdout)).toBe(false);
      expect((await verifyMetric()).ferry_backup_verify_restore_last_status).toBe(0);
    } finally {
      await fs.writeFile(metadataFile, original);
    }
  });

  it('catches a product row that differs from the one backed up', async () => {
    const original = await fs.readFile(metadataFile, 'utf8');
    const meta = JSON.parse(original);
    meta.products_checksum = '0'.repeat(32);
    await fs.writeFile(metadataFile, JSON.stringify(meta));
    try {
      const res = await runDeployScript('backup.sh', ['--verify-restore'], env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/products checksum: 0{32} in the metadata, [0-9a-f]{32} restored/);
    } finally {
      await fs.writeFile(metadataFile, original);
    }
  });

  it('fails with a reason when there is no good backup to test', async () => {
    const res = await runDeployScript('backup.sh', ['--verify-restore', '--dir', path.join(roots.base, 'empty')], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no good backup in .*empty to test/);
  });
});
