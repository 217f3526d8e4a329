import type { Command } from 'commander';
import { clientFor } from '../context';
import type { FailedProduct } from '../http/api-types';
import { formatTable } from '../output/table';
import { terminalWidth, wrap } from '../output/wrap';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';
import { addFilterOptions, filterQuery, type FilterOptions } from './filter-options';

/** The failed publishes: one table row each (class, attempts, failure time), the whole message wrapped below it. */
export function formatFailed(items: FailedProduct[], width = 100): string {
  if (!items.length) return 'no failed publishes\n';
  const rows = formatTable(
    ['DATA_ID', 'TYPE', 'CLASS', 'ATTEMPTS', 'FAILED_AT'],
    items.map((p) => [p.data_id, p.data_type, p.error_class ?? '-', p.publish_attempts, p.failed_at ?? p.updated_at ?? p.staged_at]),
  ).split('\n');
  const out = [rows[0]!];
  items.forEach((p, i) => {
    out.push(rows[i + 1]!);
    out.push(...wrap(p.publish_error ?? '(no message recorded)', width, '    '));
  });
  return `${out.join('\n')}\n${items.length} failed product(s)\n`;
}

/** `ferryctl failed`: the products whose publish failed, with class, failure time and the whole message. */
export function registerFailedCommand(program: Command, { ctx, finish }: CommandDeps): void {
  addFilterOptions(program.command('failed').description('list failed publishes (oldest failure first) with error class, failure time and the whole message'), 50)
    .option('--json', 'print the API response {count, failed_publishes} as JSON')
    .addHelpText('after', examples('ferryctl failed', 'ferryctl failed --error-class checksum_mismatch', 'ferryctl failed --order newest --limit 20 --json'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<FilterOptions & { json?: boolean }>(cmd);
      const res = await clientFor(opts, ctx).get<{ count: number; failed_publishes: FailedProduct[] }>('/api/monitoring/publish/failed', filterQuery(opts));
      if (opts.json) printJson(ctx, res);
      else ctx.io.stdout.write(formatFailed(res.failed_publishes, terminalWidth(ctx.env, (process.stdout as { columns?: number }).columns)));
      finish(0);
    });
}
