import type { PgTarget } from './pg-target';
import type { RestoreHooks } from './restore-backup';
import { runCommand } from './run-command';

/** Runs `docker compose <args>` for a compose target, returning stdout. */
export function composeRunner(target: Extract<PgTarget, { mode: 'compose' }>): (...args: string[]) => Promise<string> {
  return (...args: string[]) => runCommand({ cmd: target.compose[0]!, args: [...target.compose.slice(1), ...args] }, { env: target.env });
}

/** Restore steps in the compose stack: stop/start api and worker, migrations by the one-shot migrate service. */
export function composeRestoreHooks(
  target: Extract<PgTarget, { mode: 'compose' }>,
  confirm: (question: string) => Promise<boolean>,
  log: (msg: string) => void,
): RestoreHooks {
  const compose = composeRunner(target);
  return {
    confirm,
    async stopApplications() {
      log('stopping api and worker');
      await compose('stop', 'api', 'worker');
    },
    async startApplications() {
      log('starting api and worker');
      await compose('up', '-d', 'api', 'worker');
    },
    async migrateToHead() {
      log('migrating to head (one-shot migrate service)');
      await compose('run', '--rm', 'migrate');
    },
  };
}
