import './thread-pool';
import { loadConfig } from '../core/config';
import { ConfigError } from '../core/errors';
import { createLogger } from '../core/logging/create-logger';
import { startWorker } from './worker-runtime';

const logger = createLogger({ service: 'ferry-worker', level: 'info' });

function exitAfterFlush(code: number): void {
  logger.on('finish', () => process.exit(code));
  logger.end();
  setTimeout(() => process.exit(code), 1000).unref();
}

async function main(): Promise<void> {
  const config = loadConfig('worker');
  logger.level = config.log.level;
  const runtime = await startWorker(config, logger);
  let signalled = false;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info('shutting down', { signal, grace_seconds: config.shutdown.graceMs / 1000 });
    void runtime.shutdown().then((clean) => {
      logger.info('shutdown complete', { clean });
      exitAfterFlush(0);
    });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));
main().catch((err: unknown) => {
  if (err instanceof ConfigError) logger.error('refusing to start', { problems: err.problems });
  else logger.error('start-up failed', { err });
  exitAfterFlush(1);
});
