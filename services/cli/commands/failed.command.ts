import type { Command } from 'commander';
import { clientFor } from '../context';
import type { FailedProduct } from '../http/api-types';
import { formatTable, truncate } from '../output/table';
import { examples, intArg, optionsOf, printJson, type CommandDeps } from './command-kit';

/** The failed publishes as a table, oldest first as the API returns them. */
export function formatFailed(items: FailedProduct[]): string {
  if (!items.length) return 'no failed publishes\n';
  return formatTable(
    ['DATA_ID', 'TYPE', 'ATTEMPTS', 'STAGED_AT', 'ERROR'],
    items.map((p) => [p.data_id, p.data_type, p.publish_attempts, p.staged_at, truncate(p.publish_error, 80)]),
  );
}

/** `ferryctl failed`: the products whose publish failed. */
export function registerFailedCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('failed')
    .description('list failed publishes (oldest first)')
    .option('--max-attempts <n>', 'only products with at most N attempts', intArg(0, 1_000_000))
    .option('--limit <n>', 'at most N products (API default 50, capped by the API)', intArg(1, 100_000))
    .option('--json', 'print the API response {count, failed_publishes} as JSON')
    .addHelpText('after', examples('ferryctl failed', 'ferryctl failed --max-attempts 5 --limit 20 --json'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<{ maxAttempts?: number; limit?: number; json?: boolean }>(cmd);
      const res = await clientFor(opts, ctx).failed({ maxAttempts: opts.maxAttempts, limit: opts.limit });
      if (opts.json) printJson(ctx, res);
      else ctx.io.stdout.write(formatFailed(res.failed_publishes));
      finish(0);
    });
}
