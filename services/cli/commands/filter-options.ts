import type { Command } from 'commander';
import { intArg, timeArg } from './command-kit';

/** The filter every bulk command takes, as the API's query parameters expect it. */
export interface FilterOptions {
  errorClass?: string;
  excludeErrorClass?: string;
  dataType?: string;
  since?: string;
  until?: string;
  minAttempts?: number;
  maxAttempts?: number;
  order?: 'oldest' | 'newest';
  limit?: number;
}

/** Adds the shared filter flags (failed, retry-all, discard-all) to a command. */
export function addFilterOptions(cmd: Command, defaultLimit: number): Command {
  return cmd
    .option('--error-class <list>', 'only these error classes (comma-separated, e.g. io_error,no_space)')
    .option('--exclude-error-class <list>', 'leave these error classes out (e.g. checksum_mismatch)')
    .option('--data-type <list>', 'only these data types (comma-separated)')
    .option('--since <time>', 'only products that entered their state at or after TIME (ISO 8601)', timeArg)
    .option('--until <time>', 'only products that entered their state before TIME (ISO 8601)', timeArg)
    .option('--min-attempts <n>', 'only products with at least N attempts', intArg(0, 1_000_000))
    .option('--max-attempts <n>', 'only products with at most N attempts', intArg(0, 1_000_000))
    .option('--order <order>', 'oldest (default) or newest first', (v) => {
      if (v !== 'oldest' && v !== 'newest') throw new Error('--order must be oldest or newest');
      return v;
    })
    .option('--limit <n>', `at most N products (default ${defaultLimit}, at most 500)`, intArg(1, 500));
}

/** The flags as query parameters. */
export function filterQuery(o: FilterOptions): Record<string, string | number | undefined> {
  return {
    error_class: o.errorClass, exclude_error_class: o.excludeErrorClass, data_type: o.dataType, since: o.since, until: o.until,
    min_attempts: o.minAttempts, max_attempts: o.maxAttempts, order: o.order, limit: o.limit,
  };
}
