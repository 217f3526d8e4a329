import type { Command } from 'commander';
import { clientFor } from '../context';
import type { PublishStatus } from '../http/api-types';
import { formatPairs, type Cell } from '../output/table';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';

/** Flattens nested objects into dotted keys for the service section of the table. */
export function flatten(value: unknown, prefix = ''): [string, Cell][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, Array.isArray(value) ? JSON.stringify(value) : (value as Cell)]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** The human status report: publish figures, then the service (queue, worker) figures. */
export function formatStatus(p: PublishStatus, service: Record<string, unknown> | undefined, serviceError?: string): string {
  const rate = p.success_rate_percent === null || p.success_rate_percent === undefined ? 'n/a' : `${p.success_rate_percent} %`;
  let out = 'Publishing\n';
  out += formatPairs([
    ['published', p.total_published],
    ['staging', p.total_staging],
    ['publishing', p.total_publishing],
    ['failed', p.failed_publishes],
    ['past max attempts', p.max_attempts_exceeded],
    ['success rate', rate],
    ['failures (24 h)', p.recent_failures_24h],
    ['as of', p.timestamp],
  ]).replace(/^/gm, '  ');
  out += '\nQueue and worker\n';
  if (service) out += formatPairs(flatten(service)).replace(/^/gm, '  ');
  else out += `  unavailable: ${serviceError ?? 'unknown'}\n`;
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
