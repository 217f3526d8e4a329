import type { Command } from 'commander';
import { collectHealth } from '../check/collect-health';
import { evaluateThresholds } from '../check/thresholds';
import { CliError } from '../cli-error';
import { clientFor } from '../context';
import { examples, numberArg, optionsOf, type CommandDeps } from './command-kit';
import { addThresholdOptions, thresholdsFrom, type ThresholdFlags } from './threshold-options';

/** Sleeps ms, or less when the signal aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `ferryctl watch`: daemon mode, one JSON line per check until SIGINT or SIGTERM. */
export function registerWatchCommand(program: Command, { ctx, finish }: CommandDeps): void {
  addThresholdOptions(
    program
      .command('watch')
      .description('daemon mode: check every --interval seconds, one JSON line per check; stops cleanly on SIGINT/SIGTERM (exit 0)'),
  )
    .option('--interval <seconds>', 'seconds between checks', numberArg(0.1, 86_400), 60)
    .addHelpText(
      'after',
      examples('ferryctl watch --interval 30', 'ferryctl watch --interval 60 --min-success-rate 99 >> /var/log/ferry-watch.jsonl') +
        '\nEach line: {"timestamp", "level": "ok"|"alert"|"error", "healthy", "alerts": [...], "snapshot"} ("error" instead\n' +
        'of a snapshot when the API could not be read; watching goes on).\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<ThresholdFlags & { interval: number }>(cmd);
      const thresholds = thresholdsFrom(opts, ctx.env);
      const api = clientFor(opts, ctx);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      ctx.signals.on('SIGINT', onSignal);
      ctx.signals.on('SIGTERM', onSignal);
      const line = (v: unknown) => ctx.io.stdout.write(`${JSON.stringify(v)}\n`);
      try {
        while (!stop.signal.aborted) {
          const timestamp = ctx.now().toISOString();
          try {
            const snapshot = await collectHealth(api, thresholds, ctx.now(), stop.signal);
            const alerts = evaluateThresholds(snapshot, thresholds);
            line({ timestamp, level: alerts.length ? 'alert' : 'ok', healthy: alerts.length === 0, alerts, snapshot });
          } catch (err) {
            if (stop.signal.aborted) break;
            const code = err instanceof CliError ? err.exitCode : 1;
            line({ timestamp, level: 'error', healthy: false, exit_code: code, error: (err as Error).message });
          }
          await pause(opts.interval * 1000, stop.signal);
        }
      } finally {
        ctx.signals.off('SIGINT', onSignal);
        ctx.signals.off('SIGTERM', onSignal);
      }
      finish(0);
    });
}
