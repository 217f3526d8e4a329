import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Queryable } from '../../services/core/db/pool';

/** The repository root, where deploy/ and dist/ live. */
import { REPO_ROOT } from './repo-root';

export { REPO_ROOT };

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a deploy/ script with exactly the environment given (plus PATH), never an env file from
 * the checkout: ops scripts under test must not pick up a developer's .env.production.
 */
export function runDeployScript(script: string, args: string[], env: Record<string, string>, opts: { cwd?: string } = {}): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'deploy', script), args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Count and md5 over the ordered text of every row of every public table: equal digests mean identical rows. */
export async function tableDigests(db: Queryable): Promise<Record<string, string>> {
  const tables = await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const out: Record<string, string> = {};
  for (const { t } of tables.rows) {
    const res = await db.query<{ n: string; d: string }>(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS d FROM "${t}" x`,
    );
    out[t] = `${res.rows[0]!.n}:${res.rows[0]!.d}`;
  }
  return out;
}

/** Inserts n products (half of them published) and one event per product, in two statements. */
export async function seedProducts(db: Queryable, n: number, tag = 'p'): Promise<void> {
  await db.query(
    `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, status, size_bytes, file_count,
                           checksum_sha256, metadata, published_at)
     SELECT '${tag}' || g, (ARRAY['image','mosaic','caltable','ms'])[1 + g % 4], 'stage/${tag}' || g, '${tag}/' || g || '.fits',
            CASE WHEN g % 5 = 0 THEN 'directory'::product_kind ELSE 'file'::product_kind END,
            CASE WHEN g % 2 = 0 THEN 'published'::product_status ELSE 'staging'::product_status END,
            g * 1024, 1 + g % 7, md5('${tag}' || g) || md5('x' || g),
            jsonb_build_object('obs', g, 'band', 'L', 'note', 'row ' || g || E' with \\'quotes\\' and \\u00e9'),
            CASE WHEN g % 2 = 0 THEN now() - (g || ' seconds')::interval END
       FROM generate_series(1, $1::int) g`,
    [n],
  );
  await db.query(
    `INSERT INTO product_events (product_id, data_id, event, to_status, bytes)
     SELECT id, data_id, 'registered', 'staging', size_bytes FROM products WHERE data_id LIKE '${tag}%'`,
  );
}

/** Files in a directory, sorted ([] if it does not exist). */
export async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

/** Parses Prometheus text exposition into name → value (no labels: the backup metrics have none). */
export function parseExposition(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    out[name!] = Number(value);
  }
  return out;
}
