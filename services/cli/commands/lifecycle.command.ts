import type { Command } from 'commander';
import { clientFor } from '../context';
import type { BulkResult, RetractResult } from '../http/api-types';
import { formatTable } from '../output/table';
import { createProgress } from '../output/progress';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';
import { addFilterOptions, filterQuery, type FilterOptions } from './filter-options';
import { formatBulkLine } from './retry-all.command';

interface VerbOptions {
  reason?: string;
  json?: boolean;
}

const verbPath = (dataId: string, verb: string) => `/api/products/${encodeURIComponent(dataId)}/${verb}`;

/** Prints a verb's answer: JSON with --json, else one "key=value" line. */
function report(ctx: CommandDeps['ctx'], json: boolean | undefined, res: Record<string, unknown>): void {
  if (json) printJson(ctx, res);
  else ctx.io.stdout.write(`${Object.entries(res).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}\n`);
}

/**
 * A retraction's answer for the operator: what happened, then every product derived from it (which
 * Ferry leaves alone), so nothing that used the bad product is forgotten.
 */
export function formatRetract(res: RetractResult): string {
  let out = `data_id=${res.data_id} status=${res.status} published_path=${res.published_path ?? '-'} move=${res.move}\n`;
  if (res.descendants.length === 0) return `${out}no products were derived from ${res.data_id}\n`;
  out += `${res.descendants.length}${res.descendants_truncated ? '+' : ''} product(s) derived from ${res.data_id} may need retracting too:\n`;
  out += formatTable(['DEPTH', 'DATA_ID', 'TYPE', 'STATUS'], res.descendants.map((d) => [d.depth, d.data_id, d.data_type, d.status]));
  if (res.descendants_truncated) out += `more not listed: ferryctl lineage ${res.data_id} --descendants --limit 10000\n`;
  return out;
}

/** `ferryctl discard|amend|retract|hold|release|discard-all`: the operator verbs on products. */
export function registerLifecycleCommands(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('discard <data_id>')
    .description('give up a failed or held product: kept as discarded with who and why; the staged source stays unless --remove-source')
    .requiredOption('--reason <text>', 'why (kept in the event log)')
    .option('--remove-source', 'also remove the staged source (a worker does it)')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl discard img_42 --reason "wrong expected_sha256 from the pipeline; re-registered as img_42b"'))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<VerbOptions & { removeSource?: boolean }>(cmd);
      report(ctx, opts.json, await clientFor(opts, ctx).post(verbPath(dataId, 'discard'), { reason: opts.reason, remove_source: opts.removeSource ?? false }));
      finish(0);
    });

  program
    .command('amend <data_id>')
    .description('correct expected_sha256 and/or metadata of a staging, held or failed product (old values kept in the event)')
    .option('--expected-sha256 <hex>', 'the corrected digest; "none" stops checking one')
    .option('--metadata <json>', 'the whole new metadata object, as JSON')
    .option('--reason <text>', 'why')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl amend img_42 --expected-sha256 9f86d08…', "ferryctl amend img_42 --metadata '{\"calibration\":\"v2\"}' --reason 'new calibration'"))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<VerbOptions & { expectedSha256?: string; metadata?: string }>(cmd);
      const body: Record<string, unknown> = { reason: opts.reason };
      if (opts.expectedSha256 !== undefined) body.expected_sha256 = opts.expectedSha256 === 'none' ? null : opts.expectedSha256;
      if (opts.metadata !== undefined) body.metadata = JSON.parse(opts.metadata) as unknown;
      report(ctx, opts.json, await clientFor(opts, ctx).post(verbPath(dataId, 'amend'), body));
      finish(0);
    });

  program
    .command('retract <data_id>')
    .description('withdraw a published product: moved into PRODUCTS_ROOT/.ferry-retracted/ (never deleted), state retracted; lists what was derived from it')
    .requiredOption('--reason <text>', 'why (kept in the event log)')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl retract mosaic_7 --reason "bad calibration table cal_12"'))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<VerbOptions>(cmd);
      const res = await clientFor(opts, ctx).post<RetractResult>(verbPath(dataId, 'retract'), { reason: opts.reason });
      if (opts.json) printJson(ctx, res);
      else ctx.io.stdout.write(formatRetract(res));
      finish(0);
    });

  for (const [verb, what] of [['hold', 'keep a waiting product from being published until released'], ['release', 'let a held product be published now']] as const) {
    program
      .command(`${verb} <data_id>`)
      .description(what)
      .option('--reason <text>', 'why')
      .option('--json', 'print the API answer as JSON')
      .action(async (dataId: string, _o, cmd: Command) => {
        const opts = optionsOf<VerbOptions>(cmd);
        report(ctx, opts.json, await clientFor(opts, ctx).post(verbPath(dataId, verb), { reason: opts.reason }));
        finish(0);
      });
  }

  addFilterOptions(program.command('discard-all').description('discard the failed (or --held) products a filter picks; --dry-run lists them'), 10)
    .requiredOption('--reason <text>', 'why (kept in every event)')
    .option('--held', 'held products instead of failed ones')
    .option('--remove-source', 'also remove their staged sources')
    .option('--dry-run', 'list what would be discarded and change nothing')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl discard-all --error-class checksum_mismatch --until 2026-01-01T00:00:00Z --reason "superseded" --dry-run'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<FilterOptions & VerbOptions & { held?: boolean; removeSource?: boolean; dryRun?: boolean }>(cmd);
      const res = await clientFor(opts, ctx).post<BulkResult>(
        '/api/monitoring/publish/discard-all',
        { reason: opts.reason, remove_source: opts.removeSource ?? false },
        { ...filterQuery(opts), state: opts.held ? 'held' : 'failed', dry_run: opts.dryRun ? 'true' : undefined },
      );
      if (opts.json) printJson(ctx, res);
      else {
        const progress = createProgress(ctx.io, res.results.length, 'discarded');
        for (const r of res.results) progress.step(formatBulkLine('discard', r));
        progress.done();
        ctx.io.stdout.write(res.dry_run ? `${res.total_selected} product(s) would be discarded (dry run: nothing changed)\n` : `${res.done} discarded, ${res.skipped} skipped\n`);
      }
      finish(res.errors > 0 ? 1 : 0);
    });
}

/** `ferryctl pause|resume|bandwidth`: publishing controls. */
export function registerControlCommands(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('pause')
    .description('pause publishing (the whole service, or --data-type): claims stop, running copies finish, PublishStalled stays quiet')
    .option('--data-type <type>', 'only this data type')
    .requiredOption('--reason <text>', 'why (shown in status)')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl pause --reason "archive volume maintenance"', 'ferryctl pause --data-type ms --reason "MS validator upgrade"'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<VerbOptions & { dataType?: string }>(cmd);
      report(ctx, opts.json, await clientFor(opts, ctx).post('/api/publishing/pause', { data_type: opts.dataType, reason: opts.reason }));
      finish(0);
    });
  program
    .command('resume')
    .description('lift a pause (the whole service, or --data-type); waiting products start at once')
    .option('--data-type <type>', 'only this data type')
    .option('--reason <text>', 'why')
    .option('--json', 'print the API answer as JSON')
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<VerbOptions & { dataType?: string }>(cmd);
      report(ctx, opts.json, await clientFor(opts, ctx).post('/api/publishing/resume', { data_type: opts.dataType, reason: opts.reason }));
      finish(0);
    });
  program
    .command('bandwidth [bytes_per_sec]')
    .description('show, or set at run time, the bandwidth every worker shares among its copies (0 = unlimited, "default" = PUBLISH_MAX_BYTES_PER_SEC)')
    .option('--reason <text>', 'why')
    .option('--json', 'print the API answer as JSON')
    .addHelpText('after', examples('ferryctl bandwidth', 'ferryctl bandwidth 100000000 --reason "backup window"', 'ferryctl bandwidth default'))
    .action(async (value: string | undefined, _o, cmd: Command) => {
      const opts = optionsOf<VerbOptions>(cmd);
      const api = clientFor(opts, ctx);
      if (value === undefined) {
        report(ctx, opts.json, (await api.get<{ bandwidth: Record<string, unknown> }>('/api/publishing/controls')).bandwidth);
      } else {
        const max = value === 'default' ? null : Number(value);
        report(ctx, opts.json, await api.put('/api/publishing/bandwidth', { max_bytes_per_sec: max, reason: opts.reason }));
      }
      finish(0);
    });
}
