import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { createTestDatabase, databaseUrl, dropDatabase, type TestDatabase } from '../support/database';
import { listDir, REPO_ROOT, runDeployScript, seedProducts, tableDigests } from '../support/backup';
import { createTestRoots, writeFile, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

// The drill of docs/disaster-recovery.md, end to end on one machine: the "old server" is a
// database and a deployment directory; the "new server" is a database that does not exist yet
// and an empty directory. Each step's time goes to test-output/ for the document.
describe('disaster recovery: from the backups of a dead server to a running registry on a new one', () => {
  let old: TestDatabase;
  let roots: TestRoots;
  const newDb = `ferry_dr_${process.pid}`;
  let newPool: Pool | undefined;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    old = await createTestDatabase();
    roots = await createTestRoots();
    await seedProducts(old.pool, 10_000);
  });
  afterAll(async () => {
    await newPool?.end();
    await dropDatabase(newDb);
    await old.drop();
    await roots.cleanup();
    await fs.mkdir(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    await fs.writeFile(path.join(REPO_ROOT, 'test-output', 'disaster-recovery-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  });

  it('restores configuration and registry from off-site copies and serves the same rows', async () => {
    const oldSite = path.join(roots.base, 'old-server');
    const pass = path.join(roots.base, 'passphrase-from-password-manager');
    await fs.writeFile(pass, 'dr drill passphrase\n', { mode: 0o600 });
    await writeFile(oldSite, '.env.production', `FERRY_DOMAIN=ferry.example.org\nBACKUP_DIR=./backups\nBACKUP_PASSPHRASE_FILE=${pass}\n`);
    await writeFile(oldSite, 'secrets/postgres_password', 'pw');
    await writeFile(oldSite, 'certs/fullchain.pem', 'cert');
    const oldEnv = { FERRY_ROOT: oldSite, DATABASE_URL: old.url };
    const before = await tableDigests(old.pool);

    // Nightly jobs on the old server.
    const registry = await runDeployScript('backup.sh', [], oldEnv);
    expect(registry.code).toBe(0);
    timings.registry_backup_ms = registry.ms;
    const config = await runDeployScript('backup.sh', ['--config'], oldEnv);
    expect(config.code).toBe(0);
    timings.config_backup_ms = config.ms;

    // Off-site copy (rsync/rclone in production), checked on arrival.
    let t = Date.now();
    const offsite = path.join(roots.base, 'offsite');
    await fs.cp(path.join(oldSite, 'backups'), offsite, { recursive: true });
    const shaFiles = (await listDir(offsite)).filter((f) => f.endsWith('.sha256'));
    expect(shaFiles).toHaveLength(2);
    execFileSync('sha256sum', ['-c', ...shaFiles], { cwd: offsite, stdio: 'pipe' });
    timings.copy_and_check_ms = Date.now() - t;

    // The old server dies. On the new one: configuration first, it names everything else.
    // (The new server has a fresh checkout of the same release: here an empty directory.)
    const newSite = path.join(roots.base, 'new-server');
    await fs.mkdir(newSite);
    const archive = path.join(offsite, (await listDir(offsite)).find((f) => f.endsWith('.tar.gz.enc'))!);
    t = Date.now();
    const unpacked = path.join(newSite, 'restored-config');
    const cfg = await runDeployScript('restore.sh', ['--config', '--into', unpacked, archive], { FERRY_ROOT: newSite, BACKUP_PASSPHRASE_FILE: pass });
    expect(cfg.stderr).toBe('');
    expect(cfg.code).toBe(0);
    await fs.cp(unpacked, newSite, { recursive: true });
    timings.config_restore_ms = Date.now() - t;
    expect(await fs.readFile(path.join(newSite, '.env.production'), 'utf8')).toContain('FERRY_DOMAIN=ferry.example.org');

    // Then the registry, into a database that does not exist yet.
    const dump = path.join(offsite, (await listDir(offsite)).find((f) => /^ferry-\d{8}T\d{6}Z\.dump$/.test(f))!);
    const newEnv = { FERRY_ROOT: newSite, DATABASE_URL: databaseUrl(newDb), BACKUP_DIR: path.join(newSite, 'backups') };
    const reg = await runDeployScript('restore.sh', ['--yes', dump], newEnv);
    expect(reg.stderr).toBe('');
    expect(reg.code).toBe(0);
    expect(reg.stdout).toContain(`database "${newDb}" does not exist yet: no safety backup needed`);
    timings.registry_restore_ms = reg.ms;

    newPool = new Pool({ connectionString: databaseUrl(newDb), max: 2 });
    // An idle client ended by the server (the drill's later steps) must not fail the test.
    newPool.on('error', () => undefined);
    expect(await tableDigests(newPool)).toEqual(before);

    // First night on the new server: a backup and a restore test.
    t = Date.now();
    expect((await runDeployScript('backup.sh', [], newEnv)).code).toBe(0);
    const verify = await runDeployScript('backup.sh', ['--verify-restore'], newEnv);
    expect(verify.code).toBe(0);
    timings.first_backup_and_verify_ms = Date.now() - t;
  });
});
