import { migrate } from '../core/db/migrate';
import { runOneShot } from '../core/lifecycle/run-process';

/**
 * One-shot `migrate` command (the compose `migrate` service): applies every pending migration
 * under node-pg-migrate's advisory lock and exits 0, or prints why it could not and exits 1.
 */
void runOneShot({
  name: 'ferry-migrate',
  main: async ({ config, logger }) => {
    const { database } = config('migrate');
    const log = logger();
    try {
      const ran = await migrate({ databaseUrl: database.url, log: (msg) => log.debug(msg) });
      log.info(ran.length ? 'migrations applied' : 'schema already at head', { applied: ran });
      return 0;
    } catch (err) {
      log.error('migration failed', { err });
      return 1;
    }
  },
});
