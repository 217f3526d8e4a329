import type { Command } from 'commander';
import { collectHealth } from '../check/collect-health';
import { evaluateThresholds, summaryLine } from '../check/thresholds';
import { CliError } from '../cli-error';
import { clientFor } from '../context';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';
import { addThresholdOptions, thresholdsFrom, type ThresholdFlags } from './threshold-options';

/** `ferryctl check`: one health verdict for cron and monitoring tools, by exit code. */
export function registerCheckCommand(program: Command, { ctx, finish }: CommandDeps): void {
  addThresholdOptions(
    program
      .command('check')
      .description('for cron: exit 0 healthy, 1 when a threshold is crossed, 2 when the API cannot be reached or the token is refused'),
  )
    .option('--json', 'print {healthy, exit_code, alerts, snapshot, thresholds} as JSON')
    .option('-q, --quiet', 'print nothing when healthy (for cron, which mails any output)')
    .addHelpText(
      'after',
      examples(
        'ferryctl check',
        'ferryctl check --min-success-rate 99 --max-staging-hours 6',
        'FERRY_CHECK_MAX_FAILURES_LAST_HOUR=10 ferryctl check --json',
      ) +
        '\nCrontab (every five minutes; cron mails the one line when the exit code is not 0):\n' +
        '  */5 * * * * FERRY_URL=https://ferry.example FERRY_TOKEN_FILE=/etc/ferry/token ferryctl check --quiet\n' +
        '\nPrints one line: "OK: ..." or "CRITICAL: <every crossed threshold>". On exit 2 the reason is on stderr\n' +
        '(and, with --json, also in the JSON on stdout).\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<ThresholdFlags & { json?: boolean; quiet?: boolean }>(cmd);
      const thresholds = thresholdsFrom(opts, ctx.env);
      try {
        const snapshot = await collectHealth(clientFor(opts, ctx), thresholds, ctx.now());
        const alerts = evaluateThresholds(snapshot, thresholds);
        const code = alerts.length ? 1 : 0;
        if (opts.json) printJson(ctx, { healthy: code === 0, exit_code: code, alerts, snapshot, thresholds });
        else if (code !== 0 || !opts.quiet) ctx.io.stdout.write(`${summaryLine(snapshot, alerts)}\n`);
        finish(code);
      } catch (err) {
        if (opts.json && err instanceof CliError) printJson(ctx, { healthy: false, exit_code: err.exitCode, error: err.message, thresholds });
        throw err;
      }
    });
}
