import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFor, type CliContext } from '../context';
import type { ApiClient } from '../http/api-client';
import type { BulkItem, RetryAllResult } from '../http/api-types';
import { createProgress } from '../output/progress';
import { examples, intArg, optionsOf, printJson, type CommandDeps } from './command-kit';
import { addFilterOptions, filterQuery, type FilterOptions } from './filter-options';

interface RetryAllOptions extends FilterOptions {
  dryRun?: boolean;
  wait?: number;
  json?: boolean;
}

/** One line per product of a bulk answer: what happened to it, with its class and attempts. */
export function formatBulkLine(verb: string, r: BulkItem): string {
  const what = `${r.data_id} (${r.data_type ?? '?'}, ${r.error_class ?? 'no class'}, ${r.attempts ?? '?'} attempts)`;
  switch (r.outcome) {
    case 'would_do':
      return `would ${verb} ${what}`;
    case 'skipped':
      return `skipped ${what}: ${r.message ?? ''}`;
    case 'error':
      return `could not ${verb} ${what}: ${r.message ?? r.error ?? 'unknown error'}`;
    default:
      return `${verb === 'retry' ? 'retried' : `${verb}ed`} ${what}`;
  }
}

/** The dry-run listing: what retry-all would take, changing nothing. */
export function formatDryRun(items: BulkItem[]): string {
  const lines = items.map((p) => formatBulkLine('retry', p));
  lines.push(`${items.length} product(s) would be retried (dry run: nothing changed)`);
  return `${lines.join('\n')}\n`;
}

/**
 * Polls each re-queued product until it is published or failed, or the time is up. The client
 * rides out 429s (Retry-After, backoff), so a long wait through the proxy's limits still ends
 * with every product's outcome.
 */
async function waitForOutcomes(api: ApiClient, ctx: CliContext, ids: string[], seconds: number): Promise<Record<string, string>> {
  const outcome: Record<string, string> = {};
  const pending = new Set(ids);
  const progress = createProgress(ctx.io, ids.length, 'published or failed');
  const deadline = Date.now() + seconds * 1000;
  try {
    while (pending.size && Date.now() < deadline) {
      for (const id of [...pending]) {
        const p = await api.getProduct(id);
        outcome[id] = p.status;
        if (p.status === 'published' || p.status === 'failed') {
          pending.delete(id);
          progress.step(`${id}: ${p.status}`);
        }
        if (Date.now() >= deadline) break;
      }
      if (pending.size) await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  } catch (err) {
    // The API went away (or refused the token) partway: say what the wait saw before the error line.
    progress.done();
    const count = (s: string) => ids.filter((id) => outcome[id] === s).length;
    ctx.io.stdout.write(`wait interrupted: ${count('published')} published, ${count('failed')} failed, ${pending.size} still pending\n`);
    throw err;
  }
  progress.done();
  for (const id of pending) ctx.io.stdout.write(`${id}: still ${outcome[id] ?? 'queued'} after ${seconds} s\n`);
  return outcome;
}

/** `ferryctl retry-all`: re-queues the failed publishes a filter picks (or, with --dry-run, lists them). */
export function registerRetryAllCommand(program: Command, { ctx, finish }: CommandDeps): void {
  addFilterOptions(program.command('retry-all').description('retry the failed publishes a filter picks, oldest failure first; --dry-run lists them and changes nothing'), 10)
    .option('--dry-run', 'list what would be retried and change nothing')
    .option('--wait <seconds>', 'then wait up to SECONDS for them to publish (progress bar on a terminal, then a summary)', intArg(1, 86_400))
    .option('--json', 'print the API response as JSON')
    .addHelpText(
      'after',
      examples(
        'ferryctl retry-all --dry-run',
        'ferryctl retry-all --exclude-error-class checksum_mismatch --limit 50',
        'ferryctl retry-all --error-class io_error,no_space --since 2026-01-30T00:00:00Z --order newest --wait 300',
      ) + '\nExit 1 when any product could not be re-queued or (with --wait) did not end published;\n' +
        'exit 2 when the API stops answering during the wait (after a "wait interrupted" summary).\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<RetryAllOptions>(cmd);
      const api = clientFor(opts, ctx);
      const res = await api.post<RetryAllResult>('/api/monitoring/publish/retry-all', undefined, { ...filterQuery(opts), dry_run: opts.dryRun ? 'true' : undefined });
      if (opts.dryRun) {
        if (opts.json) printJson(ctx, { ...res, count: res.results.length, would_retry: res.results });
        else ctx.io.stdout.write(formatDryRun(res.results));
        finish(0);
        return;
      }
      let failures = res.failed;
      let outcomes: Record<string, string> | undefined;
      if (!opts.json) {
        const progress = createProgress(ctx.io, res.results.length, 're-queued');
        for (const r of res.results) progress.step(formatBulkLine('retry', r));
        progress.done();
        ctx.io.stdout.write(`${res.successful} of ${res.results.length} re-queued, ${res.skipped ?? 0} skipped, ${res.failed} could not be queued\n`);
      }
      if (opts.wait) {
        const ids = res.results.filter((r) => r.success).map((r) => r.data_id);
        outcomes = await waitForOutcomes(api, opts.json ? { ...ctx, io: { ...ctx.io, stdout: { write: () => true } } } : ctx, ids, opts.wait);
        const published = ids.filter((id) => outcomes?.[id] === 'published').length;
        const failed = ids.filter((id) => outcomes?.[id] === 'failed').length;
        failures += ids.length - published;
        if (!opts.json) {
          ctx.io.stdout.write(`after the wait: ${published} published, ${failed} failed, ${ids.length - published - failed} still pending` +
            `${api.retries ? ` (${api.retries} answer(s) retried after 429/unavailable)` : ''}\n`);
        }
      }
      if (opts.json) printJson(ctx, outcomes ? { ...res, outcomes } : res);
      finish(failures > 0 ? 1 : 0);
    });
}
