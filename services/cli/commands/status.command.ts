import type { Command } from 'commander';
import { clientFor } from '../context';
import type { PublishStatus } from '../http/api-types';
import { formatBytes, formatPairs, type Cell } from '../output/table';

/** One worker as GET /api/status lists it. */
interface WorkerLine {
  instance: string;
  age_seconds: number;
  bandwidth_limit_bytes_per_sec: number | null;
  copies: { data_id: string; copied_bytes: number; size_bytes: number; rate_bytes_per_sec: number; eta_seconds: number | null }[];
}
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';

/** Flattens nested objects into dotted keys for the service section of the table. */
export function flatten(value: unknown, prefix = ''): [string, Cell][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, Array.isArray(value) ? JSON.stringify(value) : (value as Cell)]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** The human status report: publish figures, then the service (queue, worker) figures. */
export function formatStatus(p: PublishStatus, service: Record<string, unknown> | undefined, serviceError?: string): string {
  const basis = p.success_rate ? ` (${p.success_rate.succeeded} of ${p.success_rate.products} products, 24 h)` : '';
  const rate = p.success_rate_percent === null || p.success_rate_percent === undefined
    ? `not enough data${p.success_rate ? ` (${p.success_rate.products} of at least ${p.success_rate.min_products} products)` : ''}`
    : `${p.success_rate_percent} %${basis}`;
  let out = 'Publishing\n';
  out += formatPairs([
    ['published', p.total_published],
    ['staging', p.total_staging],
    ['publishing', p.total_publishing],
    ['failed', p.failed_publishes],
    ['past max attempts', p.max_attempts_exceeded],
    ['held', p.total_held],
    ['discarded', p.total_discarded],
    ['retracted', p.total_retracted],
    ['paused', p.paused === undefined ? undefined : p.paused.length ? p.paused.map((x) => `${x.scope === '*' ? 'all' : x.scope} (${x.actor}: ${x.reason})`).join(', ') : 'no'],
    ['success rate', rate],
    ['failures (24 h)', p.recent_failures_24h],
    ['as of', p.timestamp],
  ]).replace(/^/gm, '  ');
  out += '\nQueue and workers\n';
  if (service) {
    const { workers, paused: _paused, ...rest } = service as { workers?: WorkerLine[]; paused?: unknown };
    out += formatPairs(flatten(rest)).replace(/^/gm, '  ');
    for (const w of workers ?? []) {
      out += `  worker ${w.instance}: last seen ${w.age_seconds} s ago, ${w.copies.length} cop${w.copies.length === 1 ? 'y' : 'ies'}` +
        `${w.bandwidth_limit_bytes_per_sec ? `, limit ${formatBytes(w.bandwidth_limit_bytes_per_sec)}/s` : ''}\n`;
      for (const c of w.copies) {
        out += `    ${c.data_id}: ${formatBytes(c.copied_bytes)} of ${formatBytes(c.size_bytes)} at ${formatBytes(c.rate_bytes_per_sec)}/s` +
          `${c.eta_seconds === null ? '' : `, ETA ${c.eta_seconds} s`}\n`;
      }
    }
  } else out += `  unavailable: ${serviceError ?? 'unknown'}\n`;
  return out;
}

/** `ferryctl status`: publish counts, success rate, queue depth and worker heartbeat. */
export function registerStatusCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('status')
    .description('show publish counts, success rate, queue depth and the worker heartbeat')
    .option('--json', 'print {publish, service} as JSON')
    .addHelpText('after', examples('ferryctl status', 'ferryctl status --json | jq .publish.success_rate_percent'))
    .action(async (_opts, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean }>(cmd);
      const api = clientFor(opts, ctx);
      const publish = await api.publishStatus();
      // The queue view is secondary: show the publish figures even when it fails.
      const service = await api.queueStatus().then(
        (s) => ({ ok: true as const, s }),
        (e: Error) => ({ ok: false as const, e }),
      );
      if (opts.json) {
        printJson(ctx, { publish, service: service.ok ? service.s : null, ...(service.ok ? {} : { service_error: service.e.message }) });
      } else {
        ctx.io.stdout.write(formatStatus(publish, service.ok ? service.s : undefined, service.ok ? undefined : service.e.message));
      }
      finish(0);
    });
}
