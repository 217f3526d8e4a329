import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { auditProduct, type ProductAudit } from '../audit/audit-product';
import { Reservoir } from '../audit/reservoir';
import { AUDIT_METRICS_FILE, previousCompletedAt, renderAuditMetrics, writeTextfile, type AuditOutcome } from '../audit/textfile-metrics';
import { Throttle } from '../audit/throttle';
import { CliError, EXIT_UNAVAILABLE, UsageError } from '../cli-error';
import { clientFor, type CliContext } from '../context';
import type { ApiClient } from '../http/api-client';
import type { Product } from '../http/api-types';
import { createProgress } from '../output/progress';
import { formatBytes } from '../output/table';
import { examples, intArg, numberArg, optionsOf, printJson, type CommandDeps } from './command-kit';

interface AuditOptions {
  productsRoot?: string;
  dataType?: string;
  sample?: number;
  rateMbS?: number;
  textfileDir?: string;
  pageSize: number;
  json?: boolean;
}

const DEFAULT_RATE_MB_S = 50;

/**
 * Every published product (of a type) with its digest and manifest, page by page through the
 * manifests endpoint: one request per page, never one per product, so an audit of the whole
 * archive stays under the proxy's rate limits.
 */
async function* publishedProducts(api: ApiClient, dataType: string | undefined, pageSize: number): AsyncGenerator<Product> {
  let cursor: string | undefined;
  do {
    const page = await api.manifests({ data_type: dataType, limit: pageSize, cursor });
    yield* page.products;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}

/** The list rows may leave out the manifest and checksum: fetch the full product when so. */
async function complete(api: ApiClient, p: Product): Promise<Product> {
  const lacking = p.checksum_sha256 === undefined || (p.kind === 'directory' && !p.manifest) || p.published_path === undefined;
  return lacking ? api.getProduct(p.data_id) : p;
}

/** One line per finding: "MISMATCH data_id kind path: detail". */
export function formatAudit(a: ProductAudit): string[] {
  return a.findings.map((f) => `MISMATCH ${a.data_id} ${f.kind} ${f.path}: ${f.detail}`);
}

function resolveRate(opts: AuditOptions, env: CliContext['env']): number {
  if (opts.rateMbS !== undefined) return opts.rateMbS;
  const raw = env.FERRY_AUDIT_RATE_MB_S;
  if (raw === undefined || raw === '') return DEFAULT_RATE_MB_S;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`FERRY_AUDIT_RATE_MB_S must be a number ≥ 0, got "${raw}"`);
  return v;
}

/** `ferryctl audit`: re-hashes published products under the products root against the registry. */
export function registerAuditCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('audit')
    .description('re-hash published products under PRODUCTS_ROOT and report missing, changed and extra files (exit 1 on any mismatch)')
    .option('--products-root <dir>', 'the archive as this host sees it (env PRODUCTS_ROOT); needs read access')
    .option('--data-type <type>', 'only products of this data type')
    .option('--sample <n>', 'audit N products chosen at random instead of all', intArg(1, 100_000_000))
    .option('--rate-mb-s <mb>', `read at most this many MB (10^6 bytes) per second; 0 = unlimited (env FERRY_AUDIT_RATE_MB_S; default ${DEFAULT_RATE_MB_S})`, numberArg(0, 1_000_000))
    .option('--textfile-dir <dir>', 'write ferry_audit.prom there for node-exporter (env FERRY_AUDIT_TEXTFILE_DIR)')
    .option('--page-size <n>', 'products (with manifests) per API page (at most 500)', intArg(1, 500), 200)
    .option('--json', 'print {products_checked, bytes_checked, mismatches, mismatched: [...]} as JSON')
    .addHelpText(
      'after',
      examples(
        'ferryctl audit --products-root /srv/ferry/products',
        'ferryctl audit --data-type mosaic --sample 100 --rate-mb-s 20',
        'ferryctl audit --sample 500 --textfile-dir /var/lib/node-exporter/textfile --json',
      ) +
        '\nMetrics (written atomically after every run, whatever its outcome):\n' +
        '  ferry_audit_last_run_timestamp_seconds (last completed run), ferry_audit_last_attempt_timestamp_seconds,\n' +
        '  ferry_audit_last_outcome{outcome="ok|mismatch|incomplete"}, ferry_audit_mismatches, ferry_audit_products_checked, ferry_audit_checked_bytes\n' +
        'Exit 0 all match, 1 a mismatch found, 2 the audit could not finish (API unreachable or refusing, bad root).\n',
    )
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<AuditOptions>(cmd);
      const root = opts.productsRoot ?? ctx.env.PRODUCTS_ROOT;
      if (!root) throw new UsageError('no products root: pass --products-root or set PRODUCTS_ROOT');
      const st = await fs.stat(root).catch(() => undefined);
      // An unmounted archive would look like every product missing: refuse rather than alarm.
      if (!st?.isDirectory()) throw new CliError(`products root ${root} is not a readable directory`, EXIT_UNAVAILABLE);
      const textfileDir = opts.textfileDir ?? ctx.env.FERRY_AUDIT_TEXTFILE_DIR;
      const rate = resolveRate(opts, ctx.env);
      const api = clientFor(opts, ctx);
      const throttle = new Throttle(rate > 0 ? rate * 1_000_000 : undefined);

      const progress = createProgress(opts.json ? { ...ctx.io, isTTY: false, stdout: { write: () => true } } : ctx.io, undefined, 'products audited');
      const mismatched: ProductAudit[] = [];
      let checked = 0;
      let population: number | undefined;
      let incomplete: CliError | undefined;
      try {
        let candidates: AsyncIterable<Product> | Iterable<Product>;
        if (opts.sample) {
          const reservoir = new Reservoir<Product>(opts.sample);
          for await (const p of publishedProducts(api, opts.dataType, opts.pageSize)) reservoir.offer(p);
          candidates = reservoir.sample;
          population = reservoir.offered;
        } else {
          candidates = publishedProducts(api, opts.dataType, opts.pageSize);
        }
        for await (const listed of candidates) {
          const result = await auditProduct(await complete(api, listed), root, throttle);
          checked++;
          if (!result.ok) {
            mismatched.push(result);
            for (const line of formatAudit(result)) progress.print(line);
          }
          progress.step(result.ok ? `ok ${result.data_id}` : undefined);
        }
      } catch (err) {
        // The API went away or kept refusing: what was checked is reported, the run counts as incomplete.
        if (!(err instanceof CliError)) throw err;
        incomplete = err.exitCode === EXIT_UNAVAILABLE ? err : new CliError(err.message, EXIT_UNAVAILABLE);
      }
      progress.done();

      const finishedAt = ctx.now();
      const outcome: AuditOutcome = incomplete ? 'incomplete' : mismatched.length ? 'mismatch' : 'ok';
      if (textfileDir) {
        const lastCompletedAt = incomplete ? await previousCompletedAt(textfileDir, AUDIT_METRICS_FILE) : finishedAt;
        await writeTextfile(
          textfileDir,
          AUDIT_METRICS_FILE,
          renderAuditMetrics({ finishedAt, outcome, lastCompletedAt, mismatches: mismatched.length, productsChecked: checked, bytesChecked: throttle.total }),
        );
      }
      if (opts.json) {
        printJson(ctx, {
          finished_at: finishedAt.toISOString(),
          outcome,
          ...(incomplete ? { error: incomplete.message } : {}),
          products_checked: checked,
          bytes_checked: throttle.total,
          ...(population !== undefined ? { sampled_from: population } : {}),
          mismatches: mismatched.length,
          mismatched,
          api_retries: api.retries,
        });
      } else {
        const of = population !== undefined ? ` (a sample of ${population})` : '';
        const retried = api.retries ? `; ${api.retries} answer(s) retried after 429/unavailable` : '';
        const head = incomplete ? `audit INCOMPLETE after ${checked} product(s)` : `audited ${checked} product(s)${of}`;
        ctx.io.stdout.write(`${head}, ${formatBytes(throttle.total)}: ${mismatched.length} mismatch(es)${retried}\n`);
      }
      if (incomplete) {
        ctx.io.stderr.write(`ferryctl: audit could not finish: ${incomplete.message}\n`);
        finish(EXIT_UNAVAILABLE);
        return;
      }
      finish(mismatched.length ? 1 : 0);
    });
}
