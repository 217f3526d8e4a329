import { loadConfig, type Config, type ConfigRole } from '../config';
import { ConfigError } from '../errors';
import { createLogger, type Logger } from '../logging/create-logger';
import { ShutdownRegistry } from './shutdown-registry';

/** What a process's build step gets: its configuration, logger and shutdown registry. */
export interface ProcessContext {
  config: Config;
  logger: Logger;
  /** Steps run in the order added, on SIGTERM/SIGINT or stop(); the log flush is appended last. */
  shutdown: ShutdownRegistry;
  /** Starts the shutdown from inside the process (e.g. a cluster worker whose primary went away). */
  stop(reason: string): void;
}

/** One long-running process. */
export interface ProcessSpec {
  /** The `service` field of every log line, and the prefix of a start-up failure on stderr. */
  service: string;
  role: ConfigRole;
  /** A shutdown still running this long after it began is ended with exit code 1. */
  forceAfterMs: (config: Config) => number;
  /** Builds and starts everything, adding its shutdown steps to ctx.shutdown in order. */
  build: (ctx: ProcessContext) => Promise<void>;
  /** Log a promise nobody handled instead of crashing (the worker: one bad job must not stop the rest). */
  survivesUnhandledRejections?: boolean;
}

/** Ends the logger and waits (at most a second) until every line is written. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    logger.once('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 1000).unref();
  });
}

/**
 * The one way a Ferry process starts and stops: configuration (a bad variable is reported on
 * stderr, exit 1) → logger → build → SIGTERM/SIGINT wired to the shutdown registry (each step once,
 * in order, under a force-quit timer) → logs flushed → exit 0 when every step succeeded, else 1.
 * A build that throws is logged and exits 1. `exit` is replaceable for tests.
 */
export async function runProcess(spec: ProcessSpec, exit: (code: number) => void = (code) => process.exit(code)): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(spec.role);
  } catch (err) {
    // Before a logger exists (bad configuration), plain stderr is the only channel.
    const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${spec.service} failed to start: ${message}\n`);
    exit(1);
    return;
  }
  const logger = createLogger({ service: spec.service, level: config.log.level });
  if (spec.survivesUnhandledRejections) process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));

  const shutdown = new ShutdownRegistry({
    forceAfterMs: spec.forceAfterMs(config),
    onStepError: (name, err) => logger.error('shutdown step failed', { step: name, err }),
    exit,
  });
  const stop = (reason: string) => {
    if (shutdown.started) return;
    logger.info('shutting down', { signal: reason, grace_seconds: config.shutdown.graceMs / 1000 });
    void shutdown.run().then(async (clean) => {
      logger.info('shutdown complete', { clean });
      await flushLogger(logger);
      exit(clean ? 0 : 1);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));

  try {
    await spec.build({ config, logger, shutdown, stop });
  } catch (err) {
    logger.error('start-up failed', { err });
    await flushLogger(logger);
    exit(1);
  }
}

/** What a one-shot's main gets: the configuration and logger, each made on first use. */
export interface OneShotContext {
  /** Loads the configuration once; a bad variable ends the run (exit 1, the problems on stderr). */
  config(role: ConfigRole): Config;
  /** The JSON logger at the configured level, flushed before the process exits. */
  logger(): Logger;
}

/** One command that does its job and ends (migrate, healthcheck, backup, restore, upgrade). */
export interface OneShotSpec {
  /** The `service` field of its log lines and the prefix of the line that reports a failure on stderr. */
  name: string;
  /** Does the job; resolves to the exit code (0 when nothing is returned). */
  main: (ctx: OneShotContext) => Promise<number | void>;
  /** The exit code for an error main threw, after its line is written (default 1). */
  exitCodeFor?: (err: unknown) => number;
}

/**
 * The one way a one-shot command starts and ends: main runs with lazily made configuration and
 * logger; a usage error from commander exits 2 (0 for --help); any other error is one line on
 * stderr and exit 1 (or exitCodeFor's); logs are flushed before the exit. `exit` is replaceable for tests.
 */
export async function runOneShot(spec: OneShotSpec, exit: (code: number) => void = (code) => process.exit(code)): Promise<void> {
  let config: Config | undefined;
  let logger: Logger | undefined;
  const ctx: OneShotContext = {
    config: (role) => (config ??= loadConfig(role)),
    logger: () => (logger ??= createLogger({ service: spec.name, level: config?.log.level ?? 'info' })),
  };
  let code: number;
  try {
    code = (await spec.main(ctx)) ?? 0;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && e.code.startsWith('commander.')) {
      // commander has already printed the usage or the help.
      code = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    } else {
      const message = err instanceof ConfigError ? err.message : `error: ${typeof e?.message === 'string' ? e.message : String(err)}`;
      process.stderr.write(`${spec.name}: ${message}\n`);
      code = spec.exitCodeFor?.(err) ?? 1;
    }
  }
  if (logger) await flushLogger(logger);
  exit(code);
}
