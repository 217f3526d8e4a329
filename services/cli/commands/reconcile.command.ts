import type { Command } from 'commander';
import { clientFor } from '../context';
import { examples, intArg, optionsOf, printJson, type CommandDeps } from './command-kit';

/** Number of drift entries: the report's own `counts` when it has them, else every list's length. */
export function driftTotal(report: Record<string, unknown>): number {
  const counts = report.counts;
  if (counts && typeof counts === 'object' && !Array.isArray(counts)) {
    return Object.values(counts).reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
  }
  return countDrift(report);
}

/** Number of drift entries in a report: the length of every list in it, at any depth. */
export function countDrift(report: unknown): number {
  if (Array.isArray(report)) return report.length;
  if (report && typeof report === 'object') return Object.values(report).reduce<number>((n, v) => n + (typeof v === 'object' ? countDrift(v) : 0), 0);
  return 0;
}

function describe(entry: unknown): string {
  if (entry && typeof entry === 'object') {
    return Object.entries(entry)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  return String(entry);
}

/**
 * The drift report: one heading per kind with its total (from `counts`, which may exceed the
 * entries listed), then one line per listed entry.
 */
export function formatReconcile(report: Record<string, unknown>): string {
  const counts = report.counts;
  if (!counts || typeof counts !== 'object' || Array.isArray(counts)) return formatGeneric(report);
  let out = '';
  for (const [kind, total] of Object.entries(counts as Record<string, number>)) {
    const listed = Array.isArray(report[kind]) ? (report[kind] as unknown[]) : [];
    out += `${kind}: ${total}\n`;
    for (const e of listed) out += `  ${describe(e)}\n`;
    if (total > listed.length) out += `  … and ${total - listed.length} more\n`;
  }
  return out;
}

function formatGeneric(report: Record<string, unknown>, prefix = ''): string {
  let out = '';
  for (const [key, value] of Object.entries(report)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      out += `${name}: ${value.length}\n`;
      for (const e of value) out += `  ${describe(e)}\n`;
    } else if (value && typeof value === 'object') out += formatGeneric(value as Record<string, unknown>, name);
    else out += `${name}: ${String(value)}\n`;
  }
  return out;
}

/** `ferryctl reconcile`: prints the drift between registry, queue and the data roots. */
export function registerReconcileCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('reconcile')
    .description('print the drift report between the registry, the queue and both data roots (exit 1 when there is drift)')
    .option('--limit <n>', 'list at most N entries of each kind (the API default applies)', intArg(1, 10_000))
    .option('--json', 'print the API report as JSON')
    .addHelpText(
      'after',
      examples('ferryctl reconcile', 'ferryctl reconcile --limit 20', 'ferryctl reconcile --json | jq .counts') +
        '\nThe report walks the archive: it is an on-demand check, not one to run every minute.\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean; limit?: number }>(cmd);
      const report = await clientFor(opts, ctx).reconcile(opts.limit);
      const drift = report.healthy === false ? Math.max(1, driftTotal(report)) : driftTotal(report);
      if (opts.json) printJson(ctx, report);
      else ctx.io.stdout.write(formatReconcile(report) + (drift ? `${drift} drift entr${drift === 1 ? 'y' : 'ies'}\n` : 'no drift\n'));
      finish(drift ? 1 : 0);
    });
}
