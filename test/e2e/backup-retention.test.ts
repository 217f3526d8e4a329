import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { utcStamp } from '../../services/ops/backup/backup-files';
import { databaseUrl, createTestDatabase, type TestDatabase } from '../support/database';
import { listDir, parseExposition, runDeployScript, seedProducts } from '../support/backup';
import { createTestRoots, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

const DAY = 86_400_000;

/** Writes the files of a backup taken `daysAgo` days ago: good ones have status ok, failed ones status failed. */
async function fakeBackup(dir: string, daysAgo: number, good: boolean): Promise<string> {
  const when = new Date(Date.now() - daysAgo * DAY);
  const stem = `ferry-${utcStamp(when)}`;
  await fs.mkdir(dir, { recursive: true });
  const meta = { format: 1, status: good ? 'ok' : 'failed', finished_at: when.toISOString(), size_bytes: 1234 + daysAgo, row_counts: {} };
  if (good) {
    await fs.writeFile(path.join(dir, `${stem}.dump`), 'PGDMP fake');
    await fs.writeFile(path.join(dir, `${stem}.dump.sha256`), `${'0'.repeat(64)}  ${stem}.dump\n`);
  }
  await fs.writeFile(path.join(dir, `${stem}.json`), JSON.stringify(meta));
  return stem;
}

const stems = async (dir: string) => [...new Set((await listDir(dir)).map((f) => f.replace(/\.(dump|dump\.sha256|json)$/, '')))];

describe('backup retention and textfile metrics', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  beforeAll(async () => {
    db = await createTestDatabase();
    await seedProducts(db.pool, 50);
    roots = await createTestRoots();
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  it('keeps the last 7 days plus the new backup and deletes older ones', async () => {
    const dir = path.join(roots.base, 'keep-window');
    const old10 = await fakeBackup(dir, 10, true);
    const old8 = await fakeBackup(dir, 8, true);
    const recent2 = await fakeBackup(dir, 2, true);
    const recent6 = await fakeBackup(dir, 6.5, false);
    const res = await runDeployScript('backup.sh', ['--dir', dir], { DATABASE_URL: db.url, FERRY_ROOT: roots.base });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const left = await stems(dir);
    expect(left).not.toContain(old10);
    expect(left).not.toContain(old8);
    expect(left).toEqual(expect.arrayContaining([recent2, recent6]));
    expect(left).toHaveLength(3); // the two recent ones and tonight's
    expect(res.stdout).toContain(`removed ${old10}, ${old8}`);
  });

  it('honours BACKUP_RETENTION_DAYS', async () => {
    const dir = path.join(roots.base, 'two-days');
    const old3 = await fakeBackup(dir, 3, true);
    const recent1 = await fakeBackup(dir, 1, true);
    const res = await runDeployScript('backup.sh', ['--dir', dir], { DATABASE_URL: db.url, FERRY_ROOT: roots.base, BACKUP_RETENTION_DAYS: '2' });
    expect(res.code).toBe(0);
    const left = await stems(dir);
    expect(left).not.toContain(old3);
    expect(left).toContain(recent1);
  });

  it('never deletes the last good backup when every recent backup failed, and reports the failure', async () => {
    const dir = path.join(roots.base, 'all-failing');
    const prom = path.join(roots.base, 'textfile-failing');
    const good20 = await fakeBackup(dir, 20, true);
    const good15 = await fakeBackup(dir, 15, true);
    const failed3 = await fakeBackup(dir, 3, false);
    const failed1 = await fakeBackup(dir, 1, false);
    // Tonight fails as well: the database is gone.
    const res = await runDeployScript('backup.sh', ['--dir', dir], {
      DATABASE_URL: databaseUrl(`${db.name}_missing`),
      FERRY_ROOT: roots.base,
      BACKUP_TEXTFILE_DIR: prom,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^backup\.sh: error: .*does not exist/m);
    const left = await stems(dir);
    expect(left).not.toContain(good20);
    expect(left).toEqual(expect.arrayContaining([good15, failed3, failed1]));
    expect(await fs.readdir(dir)).toEqual(expect.arrayContaining([`${good15}.dump`, `${good15}.dump.sha256`, `${good15}.json`]));
    // No half-written archive is left behind; tonight's attempt is recorded as failed.
    const tonight = left.filter((s) => ![good15, failed3, failed1].includes(s));
    expect(tonight).toHaveLength(1);
    expect(await listDir(dir)).not.toContain(`${tonight[0]}.dump`);
    expect(JSON.parse(await fs.readFile(path.join(dir, `${tonight[0]}.json`), 'utf8'))).toMatchObject({ status: 'failed' });
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);

    const metrics = parseExposition(await fs.readFile(path.join(prom, 'ferry_backup.prom'), 'utf8'));
    expect(metrics.ferry_backup_last_attempt_status).toBe(0);
    // The last success is still the 15-day-old good backup, so the staleness alert fires.
    expect(metrics.ferry_backup_last_success_timestamp_seconds).toBeCloseTo((Date.now() - 15 * DAY) / 1000, -2);
    expect(metrics.ferry_backup_size_bytes).toBe(1234 + 15);
  });

  it('writes textfile metrics that promtool accepts and that describe the backup', async () => {
    const dir = path.join(roots.base, 'metrics');
    const prom = path.join(roots.base, 'textfile');
    const res = await runDeployScript('backup.sh', ['--dir', dir], { DATABASE_URL: db.url, FERRY_ROOT: roots.base, BACKUP_TEXTFILE_DIR: prom });
    expect(res.code).toBe(0);
    expect(await fs.readdir(prom)).toEqual(['ferry_backup.prom']); // atomic: no temporary file left
    const text = await fs.readFile(path.join(prom, 'ferry_backup.prom'), 'utf8');
    // promtool check metrics exits non-zero on invalid exposition and prints lint problems.
    const checked = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
      child.stdin!.end(text);
    });
    expect(checked).toEqual({ code: 0, out: '' });
    const meta = JSON.parse(await fs.readFile(path.join(dir, (await fs.readdir(dir)).find((f) => f.endsWith('.json'))!), 'utf8'));
    const m = parseExposition(text);
    expect(m).toEqual({
      ferry_backup_last_success_timestamp_seconds: Math.floor(Date.parse(meta.finished_at) / 1000),
      ferry_backup_last_attempt_status: 1,
      ferry_backup_duration_seconds: expect.any(Number),
      ferry_backup_size_bytes: meta.size_bytes,
    });
    expect(m.ferry_backup_duration_seconds).toBeGreaterThan(0);
  });
});
