import path from 'node:path';
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { migrate } from '../core/db/migrate';
import { runOneShot } from '../core/lifecycle/run-process';
import { version } from '../core/version';
import { BackupError } from './backup/backup-error';
import { composeRestoreHooks } from './backup/compose-hooks';
import { restoreConfigBackup } from './backup/config-archive';
import { enterDeployment, intFrom, pathFrom, pgTargetFrom } from './backup/ops-env';
import { targetUrl, type PgTarget } from './backup/pg-target';
import { checkBackup, restoreBackup, type RestoreHooks } from './backup/restore-backup';
import { readMetadata } from './backup/backup-files';
import { readSchemaLevel } from './backup/database-admin';

// Entry point of deploy/restore.sh: puts a registry backup back, or unpacks a configuration backup.
// Like a main.ts, this is the one place that reads the environment.

const log = (msg: string) => process.stdout.write(`restore: ${msg}\n`);

interface Flags {
  yes?: boolean;
  config?: boolean;
  into?: string;
  mode?: string;
  safetyDir?: string;
  envFile?: string;
  checkOnly?: boolean;
  servicesStopped?: boolean;
  ifSchemaMoved?: boolean;
}

async function ask(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`${question}\nrestore.sh: not a terminal, so nobody can confirm: pass --yes to restore without asking\n`);
    return false;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} Type "yes" to continue: `)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

function hooksFor(target: PgTarget, yes: boolean, servicesStopped: boolean): RestoreHooks {
  const confirm = async (question: string) => yes || ask(question);
  if (target.mode === 'compose') return composeRestoreHooks(target, confirm, log);
  const migrateToHead = async () => {
    const ran = await migrate({ databaseUrl: targetUrl(target) });
    log(ran.length ? `migrated to head: ${ran.join(', ')}` : 'schema already at head');
  };
  // deploy/restore.sh on a host with only Docker: it stopped the api and worker before this
  // container started and starts them again once it has exited.
  if (servicesStopped) {
    return {
      confirm,
      async stopApplications() {
        log('the api and worker were stopped by the caller');
      },
      async startApplications() {
        log('the caller starts the api and worker again');
      },
      migrateToHead,
    };
  }
  return {
    confirm: (q) =>
      confirm(`${q}\nThe api and worker must be stopped first (their connections are terminated anyway): e.g. docker compose stop api worker, or systemctl stop ferry-api ferry-worker.`),
    async stopApplications() {
      log('native mode: make sure the api and worker are stopped; remaining connections are terminated now');
    },
    async startApplications() {
      log('native mode: start the api and worker again now');
    },
    migrateToHead,
  };
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('restore.sh')
    .description('Restore a registry backup over the Ferry database, or unpack an encrypted configuration backup (--config).')
    .argument('<backup>', 'the .dump file (or, with --config, the .tar.gz.enc archive)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--config', 'decrypt and unpack a configuration backup into --into')
    .option('--into <dir>', 'with --config: an empty or new directory to unpack into (default: ./restored-config)')
    .option('--mode <mode>', 'native (DATABASE_URL / PG* here) or compose (docker compose) (BACKUP_MODE)')
    .option('--safety-dir <dir>', 'where the safety backup of the current database goes (default: BACKUP_DIR)')
    .option('--env-file <file>', 'deployment env file read for BACKUP_* and POSTGRES_* settings (default: .env.production in the deployment directory)')
    .option('--check-only', "only the checks that touch nothing (checksum, table of contents, metadata), then exit")
    .option('--services-stopped', 'native mode: the caller has stopped the api and worker and starts them afterwards (deploy/restore.sh with Docker only)')
    .option('--if-schema-moved', "restore only when the database's schema level differs from the backup's (an upgrade's roll-back)")
    .exitOverride();
  program.parse(argv);
  const flags = program.opts<Flags>();
  // Arguments are relative to the operator's directory; settings to the deployment directory.
  const backup = path.resolve(program.args[0]!);
  const into = path.resolve(flags.into ?? 'restored-config');
  const cliSafetyDir = flags.safetyDir === undefined ? undefined : path.resolve(flags.safetyDir);
  const { root, env } = enterDeployment(process.env, flags.envFile);

  if (flags.config) {
    const pass = env.BACKUP_PASSPHRASE_FILE ? pathFrom(root, env.BACKUP_PASSPHRASE_FILE) : undefined;
    const entries = await restoreConfigBackup({ archive: backup, into, passphraseFile: pass });
    log(`unpacked ${entries.join(', ')} into ${into}: compare and copy into place, then chmod 600 secrets/* .env.production`);
    return;
  }

  const target = pgTargetFrom(env, flags.mode);
  if (flags.checkOnly) {
    await checkBackup(target, backup, log);
    return;
  }
  if (flags.ifSchemaMoved) {
    const before = (await readMetadata(backup))?.schema_level;
    const now = await readSchemaLevel(target);
    if (before !== undefined && now === before) {
      log(`no migration had been applied (schema still ${before ?? 'empty'}): the database was left as it was`);
      return;
    }
    log(`schema moved from ${before ?? 'empty'} to ${now ?? 'empty'}: restoring ${backup}`);
  }
  const safetyDir = cliSafetyDir ?? pathFrom(root, env.BACKUP_DIR ?? '/var/backups/ferry');
  const report = await restoreBackup(
    { target, hooks: hooksFor(target, Boolean(flags.yes), Boolean(flags.servicesStopped)), ferryVersion: version, log },
    { dump: backup, safetyDir, compressLevel: intFrom(env, 'BACKUP_COMPRESS_LEVEL', 6, 9), restoreCommand: 'deploy/restore.sh' },
  );
  log(`done: ${backup} restored into "${target.database}"${report.safety ? `; safety backup of the previous database: ${report.safety.paths.dump}` : ''}`);
}

void runOneShot({
  name: 'restore.sh',
  main: () => main(process.argv),
  // 3: the database was already replaced when it failed (deploy/restore.sh leaves the api and worker stopped).
  exitCodeFor: (err) => (err instanceof BackupError && err.databaseChanged ? 3 : 1),
});
