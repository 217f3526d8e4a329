import type { Command } from 'commander';
import { CliError, EXIT_UNAVAILABLE } from '../cli-error';
import { clientFor } from '../context';
import type { TlsInfo } from '../http/http-request';
import { redactUrl } from '../http/redact-url';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';

/** What `ferryctl test` found. */
export interface TestReport {
  url: string;
  reachable: boolean;
  latency_ms: number | null;
  tls: (TlsInfo & { used: true }) | { used: false };
  version: string | null;
  api_status: string | null;
  token: { valid: boolean; scopes: string[]; error?: string };
  ok: boolean;
}

/** The report as "ok/FAIL/warn  check  detail" lines. */
export function formatTestReport(r: TestReport): string {
  const rows: [string, string, string][] = [];
  rows.push([r.reachable ? 'ok' : 'FAIL', 'connectivity', r.reachable ? `${r.url} answered in ${r.latency_ms} ms` : `${r.url} did not answer`]);
  if (r.tls.used) rows.push(['ok', 'tls', `${r.tls.protocol ?? '?'}, verified, subject ${r.tls.subject}, issuer ${r.tls.issuer}, valid to ${r.tls.validTo}`]);
  else rows.push(['warn', 'tls', 'not used (plain http): use https outside a trusted network']);
  rows.push([r.version ? 'ok' : 'warn', 'version', r.version ? `Ferry ${r.version} (health: ${r.api_status ?? '?'})` : 'unknown']);
  rows.push([
    r.token.valid ? 'ok' : 'FAIL',
    'token',
    r.token.valid ? `valid, scopes: ${r.token.scopes.join(', ') || 'none'}` : `refused: ${r.token.error ?? ''}`,
  ]);
  return rows.map(([a, b, c]) => `${a.padEnd(4)}  ${b.padEnd(12)}  ${c}\n`).join('');
}

/** `ferryctl test`: connectivity, TLS, API version, token validity and scope. */
export function registerTestCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('test')
    .description('check connectivity, TLS, the API version, and the token (validity and scope)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      examples('ferryctl test', 'ferryctl --url https://ferry.example --ca /etc/ferry/ca.pem test --json') +
        '\nExit 0 when the API answers and the token is valid; 2 otherwise.\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean }>(cmd);
      const api = clientFor(opts, ctx, false);
      const report: TestReport = {
        url: redactUrl(api.target.baseUrl),
        reachable: false,
        latency_ms: null,
        tls: { used: false },
        version: null,
        api_status: null,
        token: { valid: false, scopes: [] },
        ok: false,
      };
      const start = performance.now();
      const live = await api.raw('GET', '/health/live');
      report.reachable = live.status < 500;
      report.latency_ms = Math.round(performance.now() - start);
      if (live.tls) report.tls = { used: true, ...live.tls };
      const health = await api.raw('GET', '/health');
      if (health.body && typeof health.body === 'object') {
        const h = health.body as { version?: string; status?: string };
        report.version = h.version ?? null;
        report.api_status = h.status ?? null;
      }
      if (!api.target.token) report.token.error = 'no token given (--token, FERRY_TOKEN or FERRY_TOKEN_FILE)';
      else {
        // Probe each scope with a request that changes nothing: reads a status, lists tokens, and
        // registers an empty body (refused as invalid when allowed, 403 when not).
        const read = await api.raw('GET', '/api/monitoring/publish/status');
        if (read.status === 401) report.token.error = 'the API does not know this token, or it was revoked (401)';
        else {
          report.token.valid = true;
          if (read.status !== 403) report.token.scopes.push('read');
          const admin = await api.raw('GET', '/api/tokens');
          const publish = await api.raw('POST', '/api/products', { body: {} });
          if (publish.status !== 401 && publish.status !== 403) report.token.scopes.push('publish');
          if (admin.status >= 200 && admin.status < 300) report.token.scopes.push('admin');
        }
      }
      report.ok = report.reachable && report.token.valid;
      if (opts.json) printJson(ctx, report);
      else ctx.io.stdout.write(formatTestReport(report));
      if (!report.reachable) throw new CliError(`the API at ${report.url} answered ${live.status} on /health/live`, EXIT_UNAVAILABLE);
      if (!report.token.valid) throw new CliError(`token refused: ${report.token.error ?? ''}`, EXIT_UNAVAILABLE);
      finish(0);
    });
}
