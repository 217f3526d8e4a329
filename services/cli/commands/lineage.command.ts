import type { Command } from 'commander';
import { clientFor } from '../context';
import type { LineageReply, SearchReply } from '../http/api-types';
import { formatTable } from '../output/table';
import { examples, intArg, numberArg, optionsOf, printJson, timeArg, type CommandDeps } from './command-kit';


const fixed = (v: number | null, digits: number) => (v === null ? '' : v.toFixed(digits));

/** `ferryctl lineage <data_id>` and `ferryctl search`: the lineage graph and the time/sky search. */
export function registerLineageCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('lineage')
    .description('what a product was derived from (ancestors, the default) or what was derived from it (--descendants)')
    .argument('<data_id>', 'the product')
    .option('--descendants', 'walk towards what was derived from it (e.g. before retracting it)')
    .option('--depth <n>', 'steps to walk (default 10)', intArg(1, 50))
    .option('--limit <n>', 'most products listed (default 1000)', intArg(1, 10_000))
    .option('--json', 'print the API response as JSON')
    .addHelpText('after', examples('ferryctl lineage mosaic_group_abc123', 'ferryctl lineage obs_2026_01_02.ms --descendants'))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<{ descendants?: boolean; depth?: number; limit?: number; json?: boolean }>(cmd);
      const direction = opts.descendants ? 'descendants' : 'ancestors';
      const reply = await clientFor(opts, ctx).call<LineageReply>('GET', `/api/products/${encodeURIComponent(dataId)}/${direction}`, {
        query: { depth: opts.depth, limit: opts.limit },
      });
      if (opts.json) printJson(ctx, reply);
      else {
        ctx.io.stdout.write(reply.products.length === 0 ? `no ${direction}\n`
          : formatTable(['DEPTH', 'DATA_ID', 'TYPE', 'STATUS', 'VIA'], reply.products.map((p) => [p.depth, p.data_id, p.data_type, p.status, p.via.join(',')])));
        if (reply.truncated) ctx.io.stderr.write('more products: raise --limit\n');
      }
      finish(0);
    });

  program
    .command('search')
    .description('products by observation time range (overlap) and/or sky cone, in observation order')
    .option('--since <time>', 'observation ends at or after this ISO 8601 time', timeArg)
    .option('--until <time>', 'observation starts at or before this ISO 8601 time', timeArg)
    .option('--ra <deg>', 'cone centre right ascension, degrees', numberArg(0, 360))
    .option('--dec <deg>', 'cone centre declination, degrees', numberArg(-90, 90))
    .option('--radius <deg>', 'cone radius, degrees', numberArg(0, 180))
    .option('--data-type <type>', 'only this data type')
    .option('--status <status>', 'only this status (e.g. published)')
    .option('--limit <n>', 'products per page (default 100)', intArg(1, 1000))
    .option('--all', 'follow next_cursor until the last page')
    .option('--json', 'print {products, next_cursor} as JSON')
    .addHelpText('after', examples('ferryctl search --ra 150.1 --dec 2.2 --radius 1.5', 'ferryctl search --since 2026-01-02T00:00:00Z --until 2026-01-03T00:00:00Z --data-type mosaic'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<{ since?: string; until?: string; ra?: number; dec?: number; radius?: number; dataType?: string; status?: string; limit?: number; all?: boolean; json?: boolean }>(cmd);
      const api = clientFor(opts, ctx);
      const query = {
        obs_since: opts.since, obs_until: opts.until, ra: opts.ra, dec: opts.dec, radius: opts.radius,
        data_type: opts.dataType, status: opts.status, limit: opts.limit,
      };
      const all: SearchReply['products'] = [];
      let page = await api.call<SearchReply>('GET', '/api/search/products', { query });
      all.push(...page.products);
      while (opts.all && page.next_cursor) {
        page = await api.call<SearchReply>('GET', '/api/search/products', { query: { ...query, cursor: page.next_cursor } });
        all.push(...page.products);
      }
      if (opts.json) printJson(ctx, { products: all, next_cursor: page.next_cursor });
      else {
        ctx.io.stdout.write(all.length === 0 ? 'no products\n' : formatTable(
          ['DATA_ID', 'TYPE', 'STATUS', 'OBS_START', 'RA', 'DEC', 'DIST', 'PUBLISHED_PATH'],
          all.map((p) => [p.data_id, p.data_type, p.status, p.obs_start, fixed(p.ra_deg, 5), fixed(p.dec_deg, 5), fixed(p.distance_deg, 4), p.published_path]),
        ));
        if (page.next_cursor) ctx.io.stderr.write('more products: add --all\n');
      }
      finish(0);
    });
}
