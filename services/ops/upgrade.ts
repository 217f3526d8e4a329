import path from 'node:path';
import { Command } from 'commander';
import { runOneShot } from '../core/lifecycle/run-process';
import { version } from '../core/version';
import { BackupError } from './backup/backup-error';
import { enterDeployment, intFrom, pathFrom, pgTargetFrom } from './backup/ops-env';
import { upgradeStack } from './upgrade/upgrade-stack';

// Entry point of deploy/upgrade.sh. Like a main.ts, this is the one place that reads the environment.

const log = (msg: string) => process.stdout.write(`upgrade: ${msg}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command('upgrade.sh')
    .description('Upgrade the compose stack: preflight, backup, build or pull, migrate, wait healthy; roll back on failure.')
    .option('--pull', 'pull images from a registry instead of building the Ferry image here')
    .option('--env-file <file>', 'deployment env file (default: .env.production in the deployment directory)')
    .exitOverride();
  program.parse(argv);
  const flags = program.opts<{ pull?: boolean; envFile?: string }>();
  const repo = path.resolve(__dirname, '..', '..');
  const { root, env } = enterDeployment(process.env, flags.envFile);
  const target = pgTargetFrom(env, 'compose');
  if (target.mode !== 'compose') throw new BackupError('upgrade runs against the compose stack only');
  const tag = env.FERRY_IMAGE_TAG ?? 'local';
  const report = await upgradeStack(
    { target, ferryVersion: version, log },
    {
      image: `ferry:${tag}`,
      previousImage: env.UPGRADE_PREVIOUS_IMAGE ?? 'ferry:previous',
      source: flags.pull ? 'pull' : 'build',
      waitTimeoutSeconds: intFrom(env, 'UPGRADE_WAIT_TIMEOUT_SECONDS', 300, 86400),
      preflight: env.UPGRADE_PREFLIGHT ? pathFrom(root, env.UPGRADE_PREFLIGHT) : path.join(repo, 'deploy', 'preflight.sh'),
      backupDir: pathFrom(root, env.BACKUP_DIR ?? '/var/backups/ferry'),
      compressLevel: intFrom(env, 'BACKUP_COMPRESS_LEVEL', 6, 9),
    },
  );
  const out = report.ok ? process.stdout : process.stderr;
  out.write(`\nupgrade.sh: ${report.ok ? 'upgrade succeeded' : 'UPGRADE FAILED'}. What happened:\n${report.steps.map((s) => `  - ${s}`).join('\n')}\n`);
  return report.ok ? 0 : 1;
}

void runOneShot({ name: 'upgrade.sh', main: () => main(process.argv) });
