import type { Command } from 'commander';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';
import { clientFor } from '../context';
import type { Product, ProductFilters } from '../http/api-types';
import { formatBytes, formatPairs, formatTable, truncate } from '../output/table';
import { examples, intArg, optionsOf, printJson, timeArg, type CommandDeps } from './command-kit';

interface ListOptions {
  status?: string;
  dataType?: string;
  createdSince?: string;
  createdUntil?: string;
  cursor?: string;
  limit?: number;
  all?: boolean;
  json?: boolean;
}

/** Products as a table. */
export function formatProducts(products: Product[]): string {
  if (!products.length) return 'no products\n';
  return formatTable(
    ['DATA_ID', 'TYPE', 'STATUS', 'KIND', 'SIZE', 'ATTEMPTS', 'CREATED_AT', 'PUBLISHED_PATH'],
    products.map((p) => [p.data_id, p.data_type, p.status, p.kind, formatBytes(p.size_bytes), p.publish_attempts, p.created_at, p.published_path]),
  );
}

/** One product's fields (its correction links only when it has one), then its events. */
export function formatProduct(p: Product): string {
  const links: [string, string][] = [];
  if (p.retracted_path) links.push(['retracted_path', p.retracted_path]);
  if (p.supersedes) links.push(['supersedes', p.supersedes]);
  if (p.superseded_by) links.push(['superseded_by', p.superseded_by]);
  let out = formatPairs([
    ['data_id', p.data_id],
    ['data_type', p.data_type],
    ['status', p.status],
    ['kind', p.kind],
    ['stage_path', p.stage_path],
    ['published_path', p.published_path],
    ['size', p.size_bytes === null ? null : `${formatBytes(p.size_bytes)} (${p.size_bytes} bytes)`],
    ['file_count', p.file_count],
    ['checksum_sha256', p.checksum_sha256],
    ['publish_attempts', p.publish_attempts],
    ['publish_error', p.publish_error],
    ['error_class', p.error_class],
    ['created_at', p.created_at],
    ['staged_at', p.staged_at],
    ['published_at', p.published_at],
    ...links,
  ]);
  if (p.events?.length) {
    out += '\nEvents\n';
    out += formatTable(
      ['AT', 'EVENT', 'ATTEMPT', 'FROM', 'TO', 'ERROR'],
      p.events.map((e) => [e.created_at, e.event, e.attempt, e.from_status, e.to_status, truncate([e.error_class, e.error].filter(Boolean).join(': '), 60)]),
    );
  }
  return out;
}

/** `ferryctl products list|show`. */
export function registerProductsCommand(program: Command, { ctx, finish }: CommandDeps): void {
  const products = program
    .command('products')
    .description('list products or show one')
    .addHelpText('after', examples('ferryctl products list --status failed', 'ferryctl products show mosaic_group_abc123'));

  products
    .command('list')
    .description('list products, oldest first (keyset pagination)')
    .option('--status <status>', `one of ${PRODUCT_STATUSES.join(', ')}`)
    .option('--data-type <type>', 'only this data type')
    .option('--created-since <time>', 'created at or after this ISO 8601 time', timeArg)
    .option('--created-until <time>', 'created before this ISO 8601 time', timeArg)
    .option('--limit <n>', 'products per page (API default and cap apply)', intArg(1, 10_000))
    .option('--cursor <cursor>', 'continue from a previous page (its next_cursor)')
    .option('--all', 'follow next_cursor until the last page')
    .option('--json', 'print {products, next_cursor} as JSON')
    .addHelpText(
      'after',
      examples(
        'ferryctl products list --status published --data-type mosaic --limit 100',
        'ferryctl products list --created-since 2026-01-01T00:00:00Z --all --json',
      ),
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<ListOptions>(cmd);
      if (opts.status && !(PRODUCT_STATUSES as readonly string[]).includes(opts.status)) {
        cmd.error(`error: --status must be one of ${PRODUCT_STATUSES.join(', ')}`, { exitCode: 2, code: 'ferryctl.usage' });
      }
      const api = clientFor(opts, ctx);
      const filters: ProductFilters = {
        status: opts.status,
        data_type: opts.dataType,
        created_since: opts.createdSince,
        created_until: opts.createdUntil,
        limit: opts.limit,
        cursor: opts.cursor,
      };
      const all: Product[] = [];
      let page = await api.listProducts(filters);
      all.push(...page.products);
      while (opts.all && page.next_cursor) {
        page = await api.listProducts({ ...filters, cursor: page.next_cursor });
        all.push(...page.products);
      }
      if (opts.json) printJson(ctx, { products: all, next_cursor: page.next_cursor });
      else {
        ctx.io.stdout.write(formatProducts(all));
        if (page.next_cursor) ctx.io.stderr.write(`more products: add --cursor ${page.next_cursor} (or --all)\n`);
      }
      finish(0);
    });

  products
    .command('show')
    .description('show one product with its manifest summary and events')
    .argument('<data_id>', 'the product')
    .option('--json', 'print the API response as JSON (with manifest and events)')
    .addHelpText('after', examples('ferryctl products show mosaic_group_abc123', 'ferryctl products show mosaic_group_abc123 --json | jq .events'))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean }>(cmd);
      const p = await clientFor(opts, ctx).getProduct(dataId);
      if (opts.json) printJson(ctx, p);
      else ctx.io.stdout.write(formatProduct(p));
      finish(0);
    });
}
