import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFor, type CliContext } from '../context';
import type { ApiClient } from '../http/api-client';
import type { FailedProduct } from '../http/api-types';
import { createProgress } from '../output/progress';
import { truncate } from '../output/table';
import { examples, intArg, optionsOf, printJson, type CommandDeps } from './command-kit';

interface RetryAllOptions {
  maxAttempts?: number;
  limit?: number;
  dryRun?: boolean;
  wait?: number;
  json?: boolean;
}

/** The dry-run listing: what retry-all would take, changing nothing. */
export function formatDryRun(items: FailedProduct[]): string {
  const lines = items.map((p) => `would retry ${p.data_id} (${p.data_type}, ${p.publish_attempts} attempts): ${truncate(p.publish_error, 80)}`);
  lines.push(`${items.length} product(s) would be retried (dry run: nothing changed)`);
  return `${lines.join('\n')}\n`;
}

/** Polls each re-queued product until it is published or failed, or the time is up. */
async function waitForOutcomes(api: ApiClient, ctx: CliContext, ids: string[], seconds: number): Promise<Record<string, string>> {
  const outcome: Record<string, string> = {};
  const pending = new Set(ids);
  const progress = createProgress(ctx.io, ids.length, 'published or failed');
  const deadline = Date.now() + seconds * 1000;
  while (pending.size && Date.now() < deadline) {
    for (const id of [...pending]) {
      const p = await api.getProduct(id);
      outcome[id] = p.status;
      if (p.status === 'published' || p.status === 'failed') {
        pending.delete(id);
        progress.step(`${id}: ${p.status}`);
      }
    }
    if (pending.size) await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  progress.done();
  for (const id of pending) ctx.io.stdout.write(`${id}: still ${outcome[id] ?? 'queued'} after ${seconds} s\n`);
  return outcome;
}

/** `ferryctl retry-all`: re-queues the oldest failed publishes (or, with --dry-run, lists them). */
export function registerRetryAllCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('retry-all')
    .description('retry failed publishes, oldest first; --dry-run lists them and changes nothing')
    .option('--max-attempts <n>', 'only products with at most N attempts', intArg(0, 1_000_000))
    .option('--limit <n>', 'at most N products (API default 10, capped by the API)', intArg(1, 100_000))
    .option('--dry-run', 'list what would be retried (GET failed) and change nothing')
    .option('--wait <seconds>', 'then wait up to SECONDS for them to publish (progress bar on a terminal)', intArg(1, 86_400))
    .option('--json', 'print the API response as JSON')
    .addHelpText(
      'after',
      examples('ferryctl retry-all --dry-run', 'ferryctl retry-all --limit 20', 'ferryctl retry-all --max-attempts 5 --wait 300') +
        '\nExit 1 when any product could not be re-queued or (with --wait) did not end published.\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<RetryAllOptions>(cmd);
      const api = clientFor(opts, ctx);
      if (opts.dryRun) {
        // The API's own default for retry-all is 10; the dry run must show the same set.
        const res = await api.failed({ maxAttempts: opts.maxAttempts, limit: opts.limit ?? 10 });
        if (opts.json) printJson(ctx, { dry_run: true, count: res.failed_publishes.length, would_retry: res.failed_publishes });
        else ctx.io.stdout.write(formatDryRun(res.failed_publishes));
        finish(0);
        return;
      }
      const res = await api.retryAll({ maxAttempts: opts.maxAttempts, limit: opts.limit });
      let failures = res.failed;
      let outcomes: Record<string, string> | undefined;
      if (!opts.json) {
        const progress = createProgress(ctx.io, res.results.length, 're-queued');
        for (const r of res.results) progress.step(r.success ? `retried ${r.data_id}` : `could not retry ${r.data_id}: ${r.error ?? 'unknown error'}`);
        progress.done();
        ctx.io.stdout.write(`${res.successful} of ${res.total_attempted} re-queued, ${res.failed} failed\n`);
      }
      if (opts.wait) {
        const ids = res.results.filter((r) => r.success).map((r) => r.data_id);
        outcomes = await waitForOutcomes(api, opts.json ? { ...ctx, io: { ...ctx.io, stdout: { write: () => true } } } : ctx, ids, opts.wait);
        failures += ids.filter((id) => outcomes?.[id] !== 'published').length;
      }
      if (opts.json) printJson(ctx, outcomes ? { ...res, outcomes } : res);
      finish(failures > 0 ? 1 : 0);
    });
}
