import { PRODUCT_STATUSES } from '../core/repositories/product.types';
import { version } from '../core/version';
import { runCaptured } from './cli-test-kit';

const COMMANDS = [
  ['status'],
  ['failed'],
  ['retry'],
  ['retry-all'],
  ['products'],
  ['products', 'list'],
  ['products', 'show'],
  ['watch'],
  ['check'],
  ['test'],
  ['token'],
  ['token', 'create'],
  ['token', 'list'],
  ['token', 'revoke'],
  ['reconcile'],
  ['audit'],
  ['lineage'],
  ['search'],
];

describe('ferryctl command line', () => {
  it('shows help with exit codes and environment at the top level, exit 0', async () => {
    const r = await runCaptured(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toContain('FERRY_TOKEN_FILE');
    for (const [name] of COMMANDS) expect(r.stdout).toContain(`  ${name}`);
  });

  it.each(COMMANDS)('shows help with examples and exit codes for %s %s', async (...words) => {
    const r = await runCaptured([...words.filter(Boolean), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('$ ferryctl');
    expect(r.stdout).toContain('2  API unreachable');
  });

  it('prints the package version', async () => {
    const r = await runCaptured(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('exits 2 on an unknown command', async () => {
    const r = await runCaptured(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 on a number flag that is not a number', async () => {
    const r = await runCaptured(['failed', '--limit', 'ten', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'--limit <n>' argument 'ten' is invalid");
  });

  it('exits 2 on a missing argument', async () => {
    expect((await runCaptured(['retry', '--token', 't'])).code).toBe(2);
  });

  it('exits 2 with one line and no stack when no token is given', async () => {
    const r = await runCaptured(['status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ferryctl: no API token: pass --token, or set FERRY_TOKEN or FERRY_TOKEN_FILE\n');
  });

  it('exits 2 on a URL that is not http(s)', async () => {
    const r = await runCaptured(['status', '--url', 'ftp://x', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must be http:// or https://');
  });

  it('exits 2 with one line when nothing listens at the URL', async () => {
    const r = await runCaptured(['status'], { FERRY_URL: 'http://127.0.0.1:1', FERRY_TOKEN: 't' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ferryctl: cannot reach the API at http://127.0.0.1:1: connection refused\n');
  });

  it('exits 2 on a threshold that is out of range, from a flag or the environment', async () => {
    expect((await runCaptured(['check', '--min-success-rate', '120', '--token', 't'])).code).toBe(2);
    const r = await runCaptured(['check', '--token', 't'], { FERRY_CHECK_MAX_STAGING_HOURS: 'soon' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FERRY_CHECK_MAX_STAGING_HOURS');
  });

  it('exits 2 on an unknown status filter or scope', async () => {
    const lost = await runCaptured(['products', 'list', '--status', 'lost', '--token', 't']);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toContain(`--status must be one of ${PRODUCT_STATUSES.join(', ')}`);
    const r = await runCaptured(['token', 'create', 'x', '--scopes', 'read,root', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('scopes are a comma-separated list');
  });

  it('takes every state of the registry as a status filter', async () => {
    for (const status of PRODUCT_STATUSES) {
      const r = await runCaptured(['products', 'list', '--status', status], { FERRY_URL: 'http://127.0.0.1:1', FERRY_TOKEN: 't' });
      expect([status, r.stderr]).toEqual([status, 'ferryctl: cannot reach the API at http://127.0.0.1:1: connection refused\n']);
    }
  });

  it('exits 2 when audit has no products root', async () => {
    const r = await runCaptured(['audit', '--token', 't']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--products-root');
  });

  it('exits 2 when audit is pointed at a products root that is not there', async () => {
    const r = await runCaptured(['audit', '--token', 't', '--products-root', '/nonexistent/ferry-products']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a readable directory');
  });
});
