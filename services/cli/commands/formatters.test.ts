import { withQuery, errorForResponse, tokenArray, unwrapProduct } from '../http/api-client';
import type { TokenInfo } from '../http/api-types';
import { buildUrl } from '../http/http-request';
import { formatAudit } from './audit.command';
import { formatFailed } from './failed.command';
import { countDrift, driftTotal, formatReconcile } from './reconcile.command';
import { formatDryRun } from './retry-all.command';
import { formatRetract } from './lifecycle.command';
import { formatProduct } from './products.command';
import { formatRetry } from './retry.command';
import { flatten, formatStatus } from './status.command';
import { formatTestReport } from './test.command';
import { formatTokens, parseScopes } from './token.command';

const failed = { data_id: 'p1', data_type: 'image', stage_path: 'a/p1.fits', publish_attempts: 5, publish_error: 'EIO', error_class: 'io_error', failed_at: 't0', created_at: 't0' };

describe('command output', () => {
  it('shows publish figures and the flattened service status', () => {
    const out = formatStatus(
      { total_published: 3, total_staging: 1, total_publishing: 0, failed_publishes: 2, max_attempts_exceeded: 1, success_rate_percent: 60, recent_failures_24h: 2, timestamp: 'now',
        total_discarded: 0, total_retracted: 0, total_held: 0, success_rate: { window_hours: 24, products: 5, succeeded: 3, min_products: 1, enough_data: true },
        oldest_waiting_age_seconds: 0, oldest_failed_age_seconds: 0, paused: [] },
      { queue: { waiting: 4 }, worker_heartbeat: null },
    );
    expect(out).toMatch(/success rate\s+60 %/);
    expect(out).toMatch(/queue\.waiting\s+4/);
    expect(out).toMatch(/worker_heartbeat\s+-/);
    expect(flatten({ a: { b: 1 } })).toEqual([['a.b', 1]]);
  });

  it('lists a retraction\'s descendants, or says there are none', () => {
    const res = { data_id: 'cal', status: 'retracted' as const, published_path: 'cal.fits', move: 'pending' as const, descendants: [], descendants_truncated: false };
    expect(formatRetract(res)).toBe('data_id=cal status=retracted published_path=cal.fits move=pending\nno products were derived from cal\n');
    const out = formatRetract({
      ...res, descendants_truncated: true,
      descendants: [{ data_id: 'img1', data_type: 'image', status: 'published', depth: 1 }, { data_id: 'mosaic', data_type: 'mosaic', status: 'failed', depth: 2 }],
    });
    expect(out).toContain('2+ product(s) derived from cal may need retracting too:');
    expect(out).toMatch(/^DEPTH\s+DATA_ID\s+TYPE\s+STATUS$/m);
    expect(out).toMatch(/^2\s+mosaic\s+mosaic\s+failed$/m);
    expect(out).toContain('ferryctl lineage cal --descendants');
  });

  it('shows a product\'s correction links only when it has them', () => {
    const product = {
      data_id: 'cal-new', data_type: 'image', stage_path: 'a.fits', destination_path: 'a.fits', published_path: 'a.fits', kind: 'file' as const,
      status: 'published' as const, size_bytes: 1, file_count: 1, checksum_sha256: null, expected_sha256: null, publish_attempts: 1, publish_error: null,
      error_class: null, lease_owner: null, lease_expires_at: null, metadata: {}, created_at: 't0', staged_at: 't0', published_at: 't1', updated_at: 't1',
      next_attempt_at: null, held: false, retracted_path: null, supersedes: null,
    };
    expect(formatProduct(product)).not.toMatch(/supersede/);
    const out = formatProduct({ ...product, supersedes: 'cal-old', superseded_by: 'cal-newer' });
    expect(out).toMatch(/^supersedes\s+cal-old$/m);
    expect(out).toMatch(/^superseded_by\s+cal-newer$/m);
  });

  it('lists failed products and says so when there are none', () => {
    expect(formatFailed([failed])).toMatch(/^DATA_ID\s+TYPE\s+CLASS\s+ATTEMPTS\s+FAILED_AT/);
    expect(formatFailed([failed])).toContain('p1');
    // The whole message, wrapped to the width, never cut.
    const long = 'x'.repeat(30) + ' ' + 'word '.repeat(40);
    const lines = formatFailed([{ ...failed, publish_error: long }], 60).split('\n').filter((l) => l.startsWith('    '));
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.map((l) => l.trim()).join(' ')).toBe(long.trim());
    expect(formatFailed([])).toBe('no failed publishes\n');
  });

  it('says a dry run changes nothing', () => {
    expect(formatDryRun([{ data_id: 'p1', data_type: 'image', error_class: 'io_error', attempts: 5, since: 't0', outcome: 'would_do' }])).toBe(
      'would retry p1 (image, io_error, 5 attempts)\n1 product(s) would be retried (dry run: nothing changed)\n',
    );
  });

  it('describes a retry outcome', () => {
    expect(formatRetry('p1', { retried: true, published: true, status: 'published', published_path: 'a/p1.fits' })).toBe('p1: published at a/p1.fits');
    expect(formatRetry('p1', { retried: true, published: false, status: 'queued', published_path: null })).toBe('p1: retried, status queued');
    expect(formatRetry('p1', { retried: false, published: false, status: 'publishing', published_path: null })).toContain('not retried');
  });

  it('totals drift from the report counts, beyond the entries listed', () => {
    const report = {
      healthy: false,
      generated_at: 'now',
      counts: { orphan_temporaries: 0, published_missing: 3 },
      orphan_temporaries: [],
      published_missing: [{ data_id: 'p1', path: 'a/p1.fits' }],
    };
    expect(driftTotal(report)).toBe(3);
    expect(formatReconcile(report)).toBe('orphan_temporaries: 0\npublished_missing: 3\n  data_id=p1 path=a/p1.fits\n  … and 2 more\n');
  });

  it('counts drift entries at any depth and prints each kind of a report without counts', () => {
    const report = { orphan_temporaries: ['x'], published_missing: [{ data_id: 'p1' }], jobs_without_row: [], checked_at: 'now' };
    expect(countDrift(report)).toBe(2);
    expect(countDrift({ a: { b: [1, 2] } })).toBe(2);
    expect(formatReconcile(report)).toBe('orphan_temporaries: 1\n  x\npublished_missing: 1\n  data_id=p1\njobs_without_row: 0\nchecked_at: now\n');
  });

  it('lists tokens from either response shape, never a secret', () => {
    const t: TokenInfo = { name: 'grafana', scopes: ['read'], created_at: 't', last_used_at: null, revoked_at: null };
    expect(tokenArray({ tokens: [t] })).toEqual([t]);
    expect(tokenArray([t])).toEqual([t]);
    expect(formatTokens([t])).toMatch(/grafana\s+read/);
  });

  it('accepts known scopes only', () => {
    expect(parseScopes('read, publish,read')).toEqual(['read', 'publish']);
    expect(() => parseScopes('root')).toThrow();
    expect(() => parseScopes('')).toThrow();
  });

  it('prints each audit finding on its own line', () => {
    const lines = formatAudit({
      data_id: 'd1', data_type: 'ms', published_path: 'ms/d1', ok: false, files_checked: 1, bytes_checked: 1,
      findings: [{ kind: 'extra', path: 'x', detail: 'file is not in the manifest' }],
    });
    expect(lines).toEqual(['MISMATCH d1 extra x: file is not in the manifest']);
  });

  it('marks a refused token as FAIL in the test report', () => {
    const out = formatTestReport({
      url: 'http://x', reachable: true, latency_ms: 3, tls: { used: false }, version: '0.1.0', api_status: 'ok',
      token: { valid: false, scopes: [], error: 'revoked' }, ok: false,
    });
    expect(out).toMatch(/^ok\s+connectivity/m);
    expect(out).toMatch(/^warn\s+tls\s+not used/m);
    expect(out).toMatch(/^FAIL\s+token\s+refused: revoked/m);
  });
});

describe('API client helpers', () => {
  it('keeps a path prefix of the base URL', () => {
    expect(buildUrl('https://h/ferry', '/api/status?x=1').href).toBe('https://h/ferry/api/status?x=1');
    expect(buildUrl('http://h:8000/', '/health').href).toBe('http://h:8000/health');
  });

  it('leaves undefined query values out', () => {
    expect(withQuery('/a', { x: 1, y: undefined, z: 'b c' })).toBe('/a?x=1&z=b+c');
    expect(withQuery('/a')).toBe('/a');
  });

  it('maps refused tokens and unavailable upstreams to exit 2, other errors to 1', () => {
    const body = { error: { code: 'c', message: 'needs admin' } };
    expect(errorForResponse({ status: 401, headers: {}, body }, 'GET /x')).toMatchObject({ exitCode: 2, message: 'token refused (401): needs admin' });
    expect(errorForResponse({ status: 403, headers: {}, body }, 'GET /x').exitCode).toBe(2);
    expect(errorForResponse({ status: 502, headers: {}, body: 'Bad Gateway' }, 'GET /x').exitCode).toBe(2);
    expect(errorForResponse({ status: 404, headers: {}, body }, 'GET /x')).toMatchObject({ exitCode: 1, message: 'GET /x failed (404): needs admin' });
    expect(errorForResponse({ status: 429, headers: { 'retry-after': '7' }, body }, 'GET /x').message).toContain('retry after 7 s');
  });

  it('unwraps a product given as {product, events}', () => {
    const p = { data_id: 'p' };
    expect(unwrapProduct({ product: p, events: [] })).toEqual({ data_id: 'p', events: [] });
    expect(unwrapProduct(p)).toBe(p);
  });
});
