import fs from 'node:fs/promises';
import path from 'node:path';
import { migrationNames } from '../../services/core/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { listDir, runDeployScript, seedProducts, tableDigests } from '../support/backup';
import { createTestRoots, type TestRoots } from '../support/dirs';

// Real pg_dump / pg_restore runs on 2 shared cores: allow more than jest's default 5 s.
jest.setTimeout(120_000);

/** The docker calls of an upgrade that goes through: keep the image, build, migrate, wait for health. */
const UPGRADE_STEPS = [
  'image inspect ferry:1.4.0',
  'tag ferry:1.4.0 ferry:previous',
  'compose build --pull',
  'compose run --rm migrate',
  'compose up -d --wait --wait-timeout 120',
];
/** …and of one whose build fails: the previous image tagged back and started again. */
const BUILD_FAILED_STEPS = [...UPGRADE_STEPS.slice(0, 3), 'tag ferry:previous ferry:1.4.0', 'compose up -d --wait --wait-timeout 120'];
/** The "new release" migrates: a new table, a new pgmigrations row and changed rows. */
const RELEASE_MIGRATION = `CREATE TABLE upgrade_probe (id int); INSERT INTO upgrade_probe VALUES (1);
  INSERT INTO pgmigrations (name, run_on) VALUES ('9999999999999_new_release', now());
  UPDATE products SET publish_error = 'touched by the new release' WHERE id % 10 = 0;`;

// There is no Docker engine here: these tests put a stand-in `docker` on PATH
// (fixtures/fake-docker.sh) that records every call and fails on demand. Its `compose exec -T
// postgres CMD` runs CMD on this machine, so the backup and the roll-back restore are real
// pg_dump / pg_restore runs against this test's own database, through the compose code path.
describe('deploy/upgrade.sh with a stand-in docker command on PATH that records calls and fails on demand', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let bin: string;
  let base: Record<string, string>;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    db.pool.on('error', () => undefined); // a roll-back restore terminates the pool's connections
    await seedProducts(db.pool, 300);
    roots = await createTestRoots();
    bin = path.join(roots.base, 'bin');
    await fs.mkdir(bin);
    await fs.copyFile(path.join(__dirname, 'fixtures', 'fake-docker.sh'), path.join(bin, 'docker'));
    await fs.chmod(path.join(bin, 'docker'), 0o755);
    const u = new URL(db.url);
    base = {
      PATH: `${bin}:${process.env.PATH}`,
      FERRY_ROOT: roots.base,
      PGHOST: u.hostname,
      PGPORT: u.port || '5432',
      PGUSER: decodeURIComponent(u.username) || 'postgres',
      POSTGRES_USER: decodeURIComponent(u.username) || 'postgres',
      POSTGRES_DB: db.name,
      FERRY_IMAGE_TAG: '1.4.0',
      UPGRADE_PREFLIGHT: path.join(roots.base, 'preflight.sh'),
      UPGRADE_WAIT_TIMEOUT_SECONDS: '120',
    };
    await fs.writeFile(path.join(roots.base, 'preflight.sh'), '#!/bin/sh\n[ -z "${FAKE_PREFLIGHT_FAIL:-}" ] || { echo "disk almost full" >&2; exit 1; }\n', { mode: 0o755 });
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  /** A fresh docker-call log and backup directory for one script run, and the environment naming them. */
  function nextRun() {
    n += 1;
    const log = path.join(roots.base, `docker-${n}.log`);
    const backupDir = path.join(roots.base, `backups-${n}`);
    /** The docker calls logged so far, compose's file options stripped. */
    const calls = async () => (await fs.readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean)
      .map((c) => c.replace('compose -f docker-compose.prod.yml --env-file .env.production ', 'compose '));
    return { log, backupDir, env: { ...base, FAKE_DOCKER_LOG: log, BACKUP_DIR: backupDir }, calls };
  }

  /** Runs upgrade.sh in a fresh backup dir; returns the result and the docker calls, compose options stripped. */
  async function upgrade(extra: Record<string, string> = {}) {
    const run = nextRun();
    const res = await runDeployScript('upgrade.sh', [], { ...run.env, ...extra });
    return { res, calls: await run.calls(), backupDir: run.backupDir };
  }
  const dockerVerbs = (calls: string[]) => calls.filter((c) => !c.includes(' exec -T postgres '));

  it('backs up, keeps the running image, builds, migrates and waits for health, in that order', async () => {
    const { res, calls, backupDir } = await upgrade();
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(dockerVerbs(calls)).toEqual(UPGRADE_STEPS);
    // The backup ran pg_dump inside the "postgres container" before any image was touched.
    expect(calls.findIndex((c) => c.includes(' pg_dump '))).toBeLessThan(calls.indexOf('image inspect ferry:1.4.0'));
    const files = await listDir(backupDir);
    expect(files.filter((f) => /^ferry-pre-upgrade-\d{8}T\d{6}Z\.dump$/.test(f))).toHaveLength(1);
    expect(res.stdout).toContain('upgrade succeeded');
  });

  it('pulls instead of building with --pull', async () => {
    const { log, env } = nextRun();
    const res = await runDeployScript('upgrade.sh', ['--pull'], env);
    expect(res.code).toBe(0);
    expect(await fs.readFile(log, 'utf8')).toMatch(/ pull\n/);
    expect(await fs.readFile(log, 'utf8')).not.toMatch(/ build/);
  });

  it('refuses to go on when the preflight fails, touching nothing', async () => {
    const { res, calls } = await upgrade({ FAKE_PREFLIGHT_FAIL: '1' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/preflight failed, nothing was changed: .*disk almost full/);
    expect(calls).toEqual([]);
  });

  it('refuses to upgrade when the backup fails, before any image or migration', async () => {
    const { res, calls, backupDir } = await upgrade({ FAKE_DOCKER_FAIL: '*pg_dump*' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/refusing to upgrade: the pre-upgrade backup failed, nothing was changed/);
    expect(dockerVerbs(calls)).toEqual([]);
    expect((await listDir(backupDir)).filter((f) => f.endsWith('.dump'))).toEqual([]);
  });

  it('puts the previous image back when the build fails, leaving the database alone', async () => {
    const before = await tableDigests(db.pool);
    const { res, calls } = await upgrade({ FAKE_DOCKER_FAIL: '*compose*build*' });
    expect(res.code).toBe(1);
    expect(dockerVerbs(calls)).toEqual(BUILD_FAILED_STEPS);
    expect(res.stderr).toMatch(/FAILED at build/);
    expect(res.stderr).toContain('previous image put back: ferry:previous tagged as ferry:1.4.0 again');
    expect(res.stderr).not.toMatch(/restoring/);
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  it('leaves the database alone when the migration failed without applying anything', async () => {
    const before = await tableDigests(db.pool);
    const { res, calls } = await upgrade({ FAKE_DOCKER_FAIL: '*compose*run --rm migrate*' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/FAILED at migrate/);
    expect(res.stderr).toMatch(/no migration had been applied \(schema still [^)]+\): the database was left as it was/);
    expect(dockerVerbs(calls)).toContain('tag ferry:previous ferry:1.4.0');
    expect(dockerVerbs(calls)).not.toContain('compose stop api worker');
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  it('restores the pre-upgrade backup when services stay unhealthy after a migration ran, then says so', async () => {
    const before = await tableDigests(db.pool);
    const head = migrationNames().pop()!;
    // The "new version" migrates, then never gets healthy.
    const { res, calls } = await upgrade({ FAKE_MIGRATE_SQL: RELEASE_MIGRATION, FAKE_DOCKER_FAIL: '*compose*up -d --wait*' });
    expect(res.code).toBe(1);
    const verbs = dockerVerbs(calls);
    expect(verbs.slice(0, 5)).toEqual(UPGRADE_STEPS);
    // Roll-back: image back first, so the restore's migrate step runs the previous version.
    expect(verbs.slice(5)).toEqual(['tag ferry:previous ferry:1.4.0', 'compose stop api worker', 'compose run --rm migrate', 'compose up -d api worker', 'compose up -d --wait --wait-timeout 120']);
    expect(res.stderr).toContain(`schema moved from ${head} to 9999999999999_new_release: restoring the pre-upgrade backup`);
    expect(res.stderr).toContain(`pre-upgrade backup restored: registry back at schema ${head}`);
    expect(res.stderr).toContain('NEEDS ATTENTION: the previous version did not come up healthy either');
    // The registry really is back where it was: same rows, no table from the failed release.
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  it('on a first install with no previous image, reports that there is nothing to return to and keeps the database', async () => {
    const { res, calls } = await upgrade({ FAKE_DOCKER_FAIL: 'image inspect*' });
    expect(res.code).toBe(0);
    expect(dockerVerbs(calls)).not.toContain('tag ferry:1.4.0 ferry:previous');
    expect(res.stdout).toContain('no image ferry:1.4.0 yet (first install)');

    const before = await tableDigests(db.pool);
    const failed = await upgrade({ FAKE_DOCKER_FAIL: 'image inspect*;*compose*up -d --wait*', FAKE_MIGRATE_SQL: 'CREATE TABLE first_install_probe (id int)' });
    expect(failed.res.code).toBe(1);
    expect(failed.res.stderr).toMatch(/no previous version to return to: the database was left as the failed upgrade left it; the pre-upgrade backup is .*ferry-pre-upgrade-/);
    expect(dockerVerbs(failed.calls).filter((c) => c.startsWith('tag '))).toEqual([]);
    expect(await tableDigests(db.pool)).toEqual({ ...before, first_install_probe: '0:d41d8cd98f00b204e9800998ecf8427e' });
    await db.pool.query('DROP TABLE first_install_probe');
  });

  it('backup.sh and restore.sh in compose mode run the PostgreSQL tools inside the postgres service', async () => {
    const { log, backupDir, env, calls: loggedCalls } = nextRun();
    const before = await tableDigests(db.pool);
    const backup = await runDeployScript('backup.sh', ['--mode', 'compose'], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const dump = path.join(backupDir, (await listDir(backupDir)).find((f) => /^ferry-\d{8}T\d{6}Z\.dump$/.test(f))!);
    const calls = (await fs.readFile(log, 'utf8')).trim().split('\n');
    const prefix = 'compose -f docker-compose.prod.yml --env-file .env.production exec -T postgres sh -c ';
    expect(calls.some((c) => c.startsWith(prefix) && c.includes(` pg_dump -d ${db.name} --format=custom`))).toBe(true);
    expect(calls.some((c) => c.startsWith(prefix) && c.endsWith(' pg_restore --list'))).toBe(true); // archive on stdin

    await fs.writeFile(log, '');
    await db.pool.query(`DELETE FROM product_events WHERE id % 2 = 0`);
    const restore = await runDeployScript('restore.sh', ['--mode', 'compose', '--yes', dump], env);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(dockerVerbs(await loggedCalls())).toEqual(['compose stop api worker', 'compose run --rm migrate', 'compose up -d api worker']);
    expect(await tableDigests(db.pool)).toEqual(before);
  });

  describe('on a host with only Docker (FERRY_OPS_RUNNER=container: the database work in one-shot ops containers)', () => {
    /** The ops container runs as `ops PROGRAM ARGS`, the compose and mount options dropped. */
    const opsCalls = (calls: string[]) =>
      dockerVerbs(calls).map((c) => c.replace(/^compose --profile ops run --rm .* ops node \/app\/dist\/ops\/(\w+)\.js /, 'ops $1 '));
    const container = { FERRY_OPS_RUNNER: 'container', FAKE_APP_DIR: path.resolve(__dirname, '..', '..') };

    it('backs up in an ops container first, then keeps the image, builds, migrates and waits for health', async () => {
      const { res, calls, backupDir } = await upgrade(container);
      expect(res.code).toBe(0);
      expect(opsCalls(calls)).toEqual(['ops backup --mode native --pre-upgrade', ...UPGRADE_STEPS]);
      // The ops container runs as the calling user with the deployment read-only and the backup directory at its own path.
      const run = calls.find((c) => c.includes(' ops node '))!;
      expect(run).toContain(`--user ${process.getuid!()}:${process.getgid!()} -v ${roots.base}:${roots.base}:ro -w ${roots.base}`);
      expect(run).toContain(`-v ${backupDir}:${backupDir}`);
      expect((await listDir(backupDir)).filter((f) => /^ferry-pre-upgrade-\d{8}T\d{6}Z\.dump$/.test(f))).toHaveLength(1);
      expect(res.stdout).toContain('upgrade succeeded');
    });

    it('refuses to upgrade when the backup fails, before any image or migration', async () => {
      const { res, calls } = await upgrade({ ...container, FAKE_DOCKER_FAIL: '*ops node /app/dist/ops/backup.js*' });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/refusing to upgrade: the pre-upgrade backup failed, nothing was changed/);
      expect(opsCalls(calls)).toEqual(['ops backup --mode native --pre-upgrade']);
    });

    it('puts the previous image back when the build fails, leaving the database alone', async () => {
      const before = await tableDigests(db.pool);
      const { res, calls } = await upgrade({ ...container, FAKE_DOCKER_FAIL: '*compose*build*' });
      expect(res.code).toBe(1);
      expect(opsCalls(calls).slice(1)).toEqual(BUILD_FAILED_STEPS);
      expect(res.stderr).toMatch(/FAILED at build/);
      expect(await tableDigests(db.pool)).toEqual(before);
    });

    it('leaves the database alone when the migration failed without applying anything', async () => {
      const before = await tableDigests(db.pool);
      const { res } = await upgrade({ ...container, FAKE_DOCKER_FAIL: '*compose*run --rm migrate*' });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/FAILED at migrate/);
      expect(res.stdout).toMatch(/no migration had been applied \(schema still [^)]+\): the database was left as it was/);
      expect(await tableDigests(db.pool)).toEqual(before);
    });

    it('restores the pre-upgrade backup with the previous image when services stay unhealthy after a migration ran', async () => {
      const before = await tableDigests(db.pool);
      const { res, calls } = await upgrade({ ...container, FAKE_MIGRATE_SQL: RELEASE_MIGRATION, FAKE_DOCKER_FAIL: '*compose*up -d --wait*' });
      expect(res.code).toBe(1);
      const dump = /pre-upgrade backup (\S+) verified/.exec(res.stderr)![1]!;
      // Image back first, so the restore (and its migrations) run the previous version.
      expect(opsCalls(calls).slice(0, 6)).toEqual(['ops backup --mode native --pre-upgrade', ...UPGRADE_STEPS]);
      expect(opsCalls(calls).slice(6)).toEqual([
        'tag ferry:previous ferry:1.4.0',
        `ops restore --mode native --check-only ${dump}`,
        'compose stop api worker',
        `ops restore --mode native --yes --services-stopped --if-schema-moved ${dump}`,
        'compose up -d --no-deps api worker',
        'compose up -d --wait --wait-timeout 120',
      ]);
      expect(res.stdout).toContain('schema moved from');
      expect(res.stderr).toContain('NEEDS ATTENTION: the previous version did not come up healthy either');
      expect(await tableDigests(db.pool)).toEqual(before);
    });
  });

  it('prints usage with --help', async () => {
    const res = await runDeployScript('upgrade.sh', ['--help'], {});
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: deploy\/upgrade\.sh/);
  });
});
