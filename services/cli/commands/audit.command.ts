import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { auditProduct, type ProductAudit } from '../audit/audit-product';
import { Reservoir } from '../audit/reservoir';
import { AUDIT_METRICS_FILE, renderAuditMetrics, writeTextfile } from '../audit/textfile-metrics';
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

/** Every published product (of a type), page by page through the keyset cursor. */
async function* publishedProducts(api: ApiClient, dataType: string | undefined, pageSize: number): AsyncGenerator<Product> {
  let cursor: string | undefined;
  do {
    const page = await api.listProducts({ status: 'published', data_type: dataType, limit: pageSize, cursor });
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
    .option('--page-size <n>', 'products per API page (the API caps it at 500)', intArg(1, 500), 200)
    .option('--json', 'print {products_checked, bytes_checked, mismatches, mismatched: [...]} as JSON')
    .addHelpText(
      'after',
      examples(
        'ferryctl audit --products-root /srv/ferry/products',
        'ferryctl audit --data-type mosaic --sample 100 --rate-mb-s 20',
        'ferryctl audit --sample 500 --textfile-dir /var/lib/node-exporter/textfile --json',
      ) +
        '\nMetrics (written atomically after a completed audit, not when the API could not be read):\n' +
        '  ferry_audit_last_run_timestamp_seconds, ferry_audit_mismatches, ferry_audit_products_checked, ferry_audit_checked_bytes\n',
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

      let candidates: AsyncIterable<Product> | Iterable<Product>;
      let total: number | undefined;
      let population: number | undefined;
      if (opts.sample) {
        const reservoir = new Reservoir<Product>(opts.sample);
        for await (const p of publishedProducts(api, opts.dataType, opts.pageSize)) reservoir.offer(p);
        candidates = reservoir.sample;
        total = reservoir.sample.length;
        population = reservoir.offered;
      } else {
        candidates = publishedProducts(api, opts.dataType, opts.pageSize);
      }

      const progress = createProgress(opts.json ? { ...ctx.io, isTTY: false, stdout: { write: () => true } } : ctx.io, total, 'products audited');
      const mismatched: ProductAudit[] = [];
      let checked = 0;
      for await (const listed of candidates) {
        const result = await auditProduct(await complete(api, listed), root, throttle);
        checked++;
        if (!result.ok) {
          mismatched.push(result);
          for (const line of formatAudit(result)) progress.print(line);
        }
        progress.step(result.ok ? `ok ${result.data_id}` : undefined);
      }
      progress.done();

      const finishedAt = ctx.now();
      if (textfileDir) {
        await writeTextfile(
          textfileDir,
          AUDIT_METRICS_FILE,
          renderAuditMetrics({ finishedAt, mismatches: mismatched.length, productsChecked: checked, bytesChecked: throttle.total }),
        );
      }
      if (opts.json) {
        printJson(ctx, {
          finished_at: finishedAt.toISOString(),
          products_checked: checked,
          bytes_checked: throttle.total,
          ...(population !== undefined ? { sampled_from: population } : {}),
          mismatches: mismatched.length,
          mismatched,
        });
      } else {
        const of = population !== undefined ? ` (a sample of ${population})` : '';
        ctx.io.stdout.write(`audited ${checked} product(s)${of}, ${formatBytes(throttle.total)}: ${mismatched.length} mismatch(es)\n`);
      }
      finish(mismatched.length ? 1 : 0);
    });
}
