import { loadConfig } from '../core/config';
import { migrate } from '../core/db/migrate';
import { ConfigError } from '../core/errors';
import { flushLogger } from '../core/lifecycle/run-process';
import { createLogger } from '../core/logging/create-logger';

/**
 * One-shot `migrate` command (the compose `migrate` service): applies every pending migration
 * under node-pg-migrate's advisory lock and exits 0, or prints why it could not and exits 1.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig('migrate');
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 1;
  }
  const logger = createLogger({ service: 'ferry-migrate', level: config.log.level });
  try {
    const ran = await migrate({ databaseUrl: config.database.url, log: (msg) => logger.debug(msg) });
    logger.info(ran.length ? 'migrations applied' : 'schema already at head', { applied: ran });
    return 0;
  } catch (err) {
    logger.error('migration failed', { err });
    return 1;
  } finally {
    await flushLogger(logger);
  }
}

main().then((code) => {
  process.exitCode = code;
});
