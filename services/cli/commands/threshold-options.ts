import type { Command } from 'commander';
import { DEFAULT_THRESHOLDS, THRESHOLD_ENV, resolveThresholds, type Thresholds } from '../check/thresholds';

/** The raw threshold flags as commander collects them (validated by resolveThresholds). */
export type ThresholdFlags = Partial<Record<keyof Thresholds, string>>;

/** Adds the four threshold flags (each with its env twin) to check and watch. */
export function addThresholdOptions(cmd: Command): Command {
  return cmd
    .option('--min-success-rate <percent>', `alert under this success rate (env ${THRESHOLD_ENV.minSuccessRate}; default ${DEFAULT_THRESHOLDS.minSuccessRate})`)
    .option(
      '--max-failures-last-hour <n>',
      `alert above this many failures in the last hour (env ${THRESHOLD_ENV.maxFailuresLastHour}; default ${DEFAULT_THRESHOLDS.maxFailuresLastHour})`,
    )
    .option(
      '--max-staging-hours <hours>',
      `alert when a product stays in staging longer (env ${THRESHOLD_ENV.maxStagingHours}; default ${DEFAULT_THRESHOLDS.maxStagingHours})`,
    )
    .option(
      '--max-attempts-exceeded <n>',
      `alert above this many products failed past max attempts (env ${THRESHOLD_ENV.maxAttemptsExceeded}; default ${DEFAULT_THRESHOLDS.maxAttemptsExceeded})`,
    );
}

/** Flags, then env, then defaults. */
export function thresholdsFrom(opts: ThresholdFlags, env: Readonly<Record<string, string | undefined>>): Thresholds {
  return resolveThresholds(
    {
      minSuccessRate: opts.minSuccessRate,
      maxFailuresLastHour: opts.maxFailuresLastHour,
      maxStagingHours: opts.maxStagingHours,
      maxAttemptsExceeded: opts.maxAttemptsExceeded,
    },
    env,
  );
}
