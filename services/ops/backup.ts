import path from 'node:path';
import { Command } from 'commander';
import { runOneShot } from '../core/lifecycle/run-process';
import { version } from '../core/version';
import { listBackups, readMetadata } from './backup/backup-files';
import { createConfigBackup, DEFAULT_CONFIG_PATHS } from './backup/config-archive';
import { createBackup } from './backup/create-backup';
import { enterDeployment, intFrom, pathFrom, pgTargetFrom, textfileDirFrom } from './backup/ops-env';
import { applyRetention, planRetention } from './backup/retention';
import { BACKUP_PROM_FILE, renderBackupMetrics, renderVerifyRestoreMetrics, VERIFY_RESTORE_PROM_FILE, writeTextfile } from './backup/textfile-metrics';
import { verifyRestore } from './backup/verify-restore';

// Entry point of deploy/backup.sh: the nightly registry backup, the weekly restore test and the
// configuration backup. Like a main.ts, this is the one place that reads the environment.

const PREFIX = 'ferry';
const log = (msg: string) => process.stdout.write(`backup: ${msg}\n`);

interface Flags {
  verifyRestore?: boolean;
  config?: boolean;
  dir?: string;
  mode?: string;
  envFile?: string;
  preUpgrade?: boolean;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('backup.sh')
    .description('Back up the Ferry registry (pg_dump), test-restore the newest backup, or back up the configuration.')
    .option('--verify-restore', 'restore the newest good backup into a scratch database and compare it with its metadata')
    .option('--config', 'write an encrypted archive of .env.production, certs/, secrets/ and local overrides')
    .option('--dir <dir>', 'backup directory (BACKUP_DIR, default /var/backups/ferry)')
    .option('--mode <mode>', 'native (DATABASE_URL / PG* here) or compose (docker compose exec postgres) (BACKUP_MODE)')
    .option('--env-file <file>', 'deployment env file read for BACKUP_* and POSTGRES_* settings (default: .env.production in the deployment directory)')
    .option('--pre-upgrade', 'a verified safety backup named ferry-pre-upgrade-<UTC>, outside retention and metrics (deploy/upgrade.sh)')
    .exitOverride();
  program.parse(argv);
  const flags = program.opts<Flags>();
  // Arguments are relative to the operator's directory; settings to the deployment directory.
  const cliDir = flags.dir === undefined ? undefined : path.resolve(flags.dir);
  const { root, env } = enterDeployment(process.env, flags.envFile);
  const dir = cliDir ?? pathFrom(root, env.BACKUP_DIR ?? '/var/backups/ferry');
  const textfileDir = textfileDirFrom(env, root);

  if (flags.config) {
    const paths = env.BACKUP_CONFIG_PATHS ? env.BACKUP_CONFIG_PATHS.split(/\s+/).filter(Boolean) : DEFAULT_CONFIG_PATHS;
    const pass = env.BACKUP_PASSPHRASE_FILE ? pathFrom(root, env.BACKUP_PASSPHRASE_FILE) : undefined;
    await createConfigBackup({ root, dir: pathFrom(root, env.BACKUP_CONFIG_DIR ?? dir), paths, passphraseFile: pass, log });
    return;
  }

  const target = pgTargetFrom(env, flags.mode);
  const compressLevel = intFrom(env, 'BACKUP_COMPRESS_LEVEL', 6, 9);
  if (flags.preUpgrade) {
    const safety = await createBackup({ target, ferryVersion: version, log }, { dir, prefix: `${PREFIX}-pre-upgrade`, compressLevel });
    log(`pre-upgrade backup ${safety.paths.dump} verified (schema ${safety.metadata.schema_level ?? 'empty'})`);
    return;
  }
  if (flags.verifyRestore) {
    let ok = false;
    try {
      await verifyRestore({ target, log }, { dir, prefix: PREFIX });
      ok = true;
    } finally {
      if (textfileDir) await writeTextfile(textfileDir, VERIFY_RESTORE_PROM_FILE, renderVerifyRestoreMetrics({ timestamp: Date.now() / 1000, ok }));
    }
    return;
  }

  const days = intFrom(env, 'BACKUP_RETENTION_DAYS', 7, 3650);
  const started = Date.now();
  let failure: unknown;
  try {
    await createBackup({ target, ferryVersion: version, log }, { dir, prefix: PREFIX, compressLevel });
  } catch (err) {
    failure = err;
  }
  // Retention runs after failures too: it never removes the newest good backup.
  const plan = planRetention(await listBackups(dir, PREFIX), new Date(), days);
  await applyRetention(plan);
  if (plan.remove.length) log(`retention (${days} days): removed ${plan.remove.map((b) => b.stem).join(', ')}`);
  if (textfileDir) {
    const good = (await listBackups(dir, PREFIX)).filter((b) => b.good).pop();
    const meta = good && (await readMetadata(path.join(dir, `${good.stem}.json`)));
    const file = await writeTextfile(
      textfileDir,
      BACKUP_PROM_FILE,
      renderBackupMetrics({
        lastSuccessTimestamp: meta ? Date.parse(meta.finished_at) / 1000 : 0,
        lastAttemptOk: failure === undefined,
        durationSeconds: (Date.now() - started) / 1000,
        sizeBytes: meta?.size_bytes ?? 0,
      }),
    );
    log(`metrics written to ${file}`);
  } else {
    log('no textfile directory (BACKUP_TEXTFILE_DIR / NODE_EXPORTER_TEXTFILE_DIR): metrics not written');
  }
  if (failure !== undefined) throw failure;
}

void runOneShot({ name: 'backup.sh', main: () => main(process.argv) });
