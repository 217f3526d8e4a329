import { UsageError } from '../cli-error';

/** Limits `check` and `watch` compare the registry against. */
export interface Thresholds {
  /** Alert when the success rate (percent) is below this. */
  minSuccessRate: number;
  /** Alert when more than this many publish attempts failed in the last hour. */
  maxFailuresLastHour: number;
  /** Alert when a product has been in staging for longer than this many hours. */
  maxStagingHours: number;
  /** Alert when more than this many products are failed past the attempt limit. */
  maxAttemptsExceeded: number;
}

/** The limits issue 5 names: 95 %, 5 failures an hour, 24 h in staging, no product past max attempts. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  minSuccessRate: 95,
  maxFailuresLastHour: 5,
  maxStagingHours: 24,
  maxAttemptsExceeded: 0,
};

/** The environment variable behind each threshold (a flag wins over it). */
export const THRESHOLD_ENV: Record<keyof Thresholds, string> = {
  minSuccessRate: 'FERRY_CHECK_MIN_SUCCESS_RATE',
  maxFailuresLastHour: 'FERRY_CHECK_MAX_FAILURES_LAST_HOUR',
  maxStagingHours: 'FERRY_CHECK_MAX_STAGING_HOURS',
  maxAttemptsExceeded: 'FERRY_CHECK_MAX_ATTEMPTS_EXCEEDED',
};

/** What the registry looks like at one moment, gathered by collect-health.ts. */
export interface HealthSnapshot {
  success_rate_percent: number | null;
  failures_last_hour: number;
  /** The oldest product still in staging beyond the age limit, if any. */
  oldest_staging: { data_id: string; since: string; age_hours: number } | null;
  max_attempts_exceeded: number;
  total_published: number;
  total_staging: number;
  total_publishing: number;
  failed_publishes: number;
}

/** Which threshold an alert is about (stable names for --json consumers). */
export type AlertName = 'success_rate' | 'failures_last_hour' | 'staging_age' | 'max_attempts_exceeded';

/** One crossed threshold. */
export interface Alert {
  alert: AlertName;
  value: number;
  threshold: number;
  message: string;
}

function parseLimit(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return v;
}

const RANGES: Record<keyof Thresholds, [number, number]> = {
  minSuccessRate: [0, 100],
  maxFailuresLastHour: [0, 1e9],
  maxStagingHours: [0, 1e6],
  maxAttemptsExceeded: [0, 1e9],
};

/** Thresholds from flags, else the environment, else the defaults; a bad value is a usage error. */
export function resolveThresholds(flags: Partial<Record<keyof Thresholds, string>>, env: Readonly<Record<string, string | undefined>>): Thresholds {
  const out = { ...DEFAULT_THRESHOLDS };
  for (const key of Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[]) {
    const [min, max] = RANGES[key];
    const flag = flags[key];
    const fromEnv = env[THRESHOLD_ENV[key]];
    if (flag !== undefined) out[key] = parseLimit(`--${kebab(key)}`, flag, min, max);
    else if (fromEnv !== undefined && fromEnv !== '') out[key] = parseLimit(THRESHOLD_ENV[key], fromEnv, min, max);
  }
  return out;
}

/** camelCase → kebab-case, for flag names in messages. */
export function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Every threshold the snapshot crosses, in a fixed order; empty means healthy. */
export function evaluateThresholds(s: HealthSnapshot, t: Thresholds): Alert[] {
  const alerts: Alert[] = [];
  if (s.success_rate_percent !== null && s.success_rate_percent < t.minSuccessRate) {
    alerts.push({
      alert: 'success_rate',
      value: s.success_rate_percent,
      threshold: t.minSuccessRate,
      message: `success rate ${round(s.success_rate_percent)} % is under ${t.minSuccessRate} %`,
    });
  }
  if (s.failures_last_hour > t.maxFailuresLastHour) {
    alerts.push({
      alert: 'failures_last_hour',
      value: s.failures_last_hour,
      threshold: t.maxFailuresLastHour,
      message: `${s.failures_last_hour} failures in the last hour (more than ${t.maxFailuresLastHour})`,
    });
  }
  if (s.oldest_staging && s.oldest_staging.age_hours > t.maxStagingHours) {
    alerts.push({
      alert: 'staging_age',
      value: round(s.oldest_staging.age_hours),
      threshold: t.maxStagingHours,
      message: `product ${s.oldest_staging.data_id} has been in staging for ${round(s.oldest_staging.age_hours)} h (over ${t.maxStagingHours} h)`,
    });
  }
  if (s.max_attempts_exceeded > t.maxAttemptsExceeded) {
    alerts.push({
      alert: 'max_attempts_exceeded',
      value: s.max_attempts_exceeded,
      threshold: t.maxAttemptsExceeded,
      message: `${s.max_attempts_exceeded} product(s) failed past the maximum attempts`,
    });
  }
  return alerts;
}

/** The one line `check` prints: why it is unhealthy, or a short healthy summary. */
export function summaryLine(s: HealthSnapshot, alerts: Alert[]): string {
  if (alerts.length) return `CRITICAL: ${alerts.map((a) => a.message).join('; ')}`;
  const rate = s.success_rate_percent === null ? 'not enough data' : `${round(s.success_rate_percent)} %`;
  return `OK: success rate ${rate}, ${s.failures_last_hour} failures in the last hour, ${s.total_staging} staging, ${s.failed_publishes} failed`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
