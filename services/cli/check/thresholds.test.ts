import { UsageError } from '../cli-error';
import { DEFAULT_THRESHOLDS, evaluateThresholds, resolveThresholds, summaryLine, type HealthSnapshot } from './thresholds';

const healthy: HealthSnapshot = {
  success_rate_percent: 100,
  failures_last_hour: 0,
  oldest_staging: null,
  max_attempts_exceeded: 0,
  total_published: 10,
  total_staging: 1,
  total_publishing: 0,
  failed_publishes: 0,
};

describe('evaluateThresholds', () => {
  it('finds nothing wrong with a healthy registry', () => {
    expect(evaluateThresholds(healthy, DEFAULT_THRESHOLDS)).toEqual([]);
  });

  it('alerts when the success rate is under the minimum, not when it equals it', () => {
    expect(evaluateThresholds({ ...healthy, success_rate_percent: 95 }, DEFAULT_THRESHOLDS)).toEqual([]);
    const alerts = evaluateThresholds({ ...healthy, success_rate_percent: 94.9 }, DEFAULT_THRESHOLDS);
    expect(alerts.map((a) => a.alert)).toEqual(['success_rate']);
    expect(alerts[0]?.message).toBe('success rate 94.9 % is under 95 %');
  });

  it('ignores an unknown success rate', () => {
    expect(evaluateThresholds({ ...healthy, success_rate_percent: null }, DEFAULT_THRESHOLDS)).toEqual([]);
  });

  it('alerts on more than 5 failures in the last hour, not on exactly 5', () => {
    expect(evaluateThresholds({ ...healthy, failures_last_hour: 5 }, DEFAULT_THRESHOLDS)).toEqual([]);
    expect(evaluateThresholds({ ...healthy, failures_last_hour: 6 }, DEFAULT_THRESHOLDS).map((a) => a.alert)).toEqual(['failures_last_hour']);
  });

  it('alerts on a product in staging for over 24 h', () => {
    const old = { data_id: 'old-1', since: '2026-01-01T00:00:00Z', age_hours: 30 };
    const alerts = evaluateThresholds({ ...healthy, oldest_staging: old }, DEFAULT_THRESHOLDS);
    expect(alerts.map((a) => a.alert)).toEqual(['staging_age']);
    expect(alerts[0]?.message).toContain('old-1');
    expect(evaluateThresholds({ ...healthy, oldest_staging: { ...old, age_hours: 24 } }, DEFAULT_THRESHOLDS)).toEqual([]);
  });

  it('alerts on any product past max attempts by default', () => {
    expect(evaluateThresholds({ ...healthy, max_attempts_exceeded: 1 }, DEFAULT_THRESHOLDS).map((a) => a.alert)).toEqual(['max_attempts_exceeded']);
    expect(evaluateThresholds({ ...healthy, max_attempts_exceeded: 1 }, { ...DEFAULT_THRESHOLDS, maxAttemptsExceeded: 1 })).toEqual([]);
  });

  it('reports every crossed threshold in one line', () => {
    const bad = { ...healthy, success_rate_percent: 50, failures_last_hour: 9, max_attempts_exceeded: 2 };
    const line = summaryLine(bad, evaluateThresholds(bad, DEFAULT_THRESHOLDS));
    expect(line).toMatch(/^CRITICAL: success rate 50 % .*; 9 failures in the last hour .*; 2 product\(s\) failed past/);
    expect(line).not.toContain('\n');
    expect(summaryLine(healthy, [])).toMatch(/^OK: success rate 100 %/);
  });
});

describe('resolveThresholds', () => {
  it('takes defaults when nothing is set', () => {
    expect(resolveThresholds({}, {})).toEqual(DEFAULT_THRESHOLDS);
  });

  it('takes the environment over the default and a flag over the environment', () => {
    const env = { FERRY_CHECK_MIN_SUCCESS_RATE: '90', FERRY_CHECK_MAX_STAGING_HOURS: '6' };
    expect(resolveThresholds({}, env)).toMatchObject({ minSuccessRate: 90, maxStagingHours: 6 });
    expect(resolveThresholds({ minSuccessRate: '99' }, env)).toMatchObject({ minSuccessRate: 99, maxStagingHours: 6 });
    expect(resolveThresholds({}, { FERRY_CHECK_MAX_FAILURES_LAST_HOUR: '0', FERRY_CHECK_MAX_ATTEMPTS_EXCEEDED: '3' })).toMatchObject({
      maxFailuresLastHour: 0,
      maxAttemptsExceeded: 3,
    });
  });

  it('refuses a value that is not a number in range, naming the flag or variable', () => {
    expect(() => resolveThresholds({ minSuccessRate: '101' }, {})).toThrow(UsageError);
    expect(() => resolveThresholds({ minSuccessRate: 'abc' }, {})).toThrow('--min-success-rate');
    expect(() => resolveThresholds({}, { FERRY_CHECK_MAX_STAGING_HOURS: '-1' })).toThrow('FERRY_CHECK_MAX_STAGING_HOURS');
  });
});
