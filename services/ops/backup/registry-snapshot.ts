/** What a backup records about the registry, and what a restore is checked against. */
export interface RegistrySnapshot {
  /** Exact row count of every table in the public schema. */
  row_counts: Record<string, number>;
  /** Newest applied migration (pgmigrations), or null before the first one. */
  schema_level: string | null;
  /** md5 over the text of every products row ordered by id, or null without a products table. */
  products_checksum: string | null;
}

// One statement, so it runs inside the backup's exported snapshot. query_to_xml runs the dynamic
// count(*) per table without a function in the database; the CASEs keep tables that do not
// exist yet (an empty database) from failing the whole query.
const cell = (sql: string) => `(xpath('/row/v/text()', query_to_xml(${sql}, false, true, '')))[1]::text`;

/** SQL returning the snapshot as one JSON line; run with TimeZone=UTC so row text is stable. */
export const SNAPSHOT_SQL = `SELECT json_build_object(
  'row_counts', coalesce((SELECT json_object_agg(c.relname, ${cell(`format('SELECT count(*) AS v FROM %I.%I', n.nspname, c.relname)`)}::bigint ORDER BY c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')), '{}'::json),
  'schema_level', CASE WHEN to_regclass('public.pgmigrations') IS NULL THEN NULL
     ELSE ${cell(`'SELECT max(name) AS v FROM public.pgmigrations'`)} END,
  'products_checksum', CASE WHEN to_regclass('public.products') IS NULL THEN NULL
     ELSE ${cell(`'SELECT md5(coalesce(string_agg(p::text, chr(10) ORDER BY p.id), '''')) AS v FROM public.products p'`)} END
)::text;`;

/** Session settings that make row text identical on every server and client. */
export const SNAPSHOT_SESSION_SQL = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; SET IntervalStyle = 'postgres';";

/** Parses the one line SNAPSHOT_SQL prints. */
export function parseSnapshot(line: string): RegistrySnapshot {
  const raw = JSON.parse(line) as { row_counts: Record<string, number | string>; schema_level: string | null; products_checksum: string | null };
  const row_counts: Record<string, number> = {};
  for (const [t, n] of Object.entries(raw.row_counts)) row_counts[t] = Number(n);
  return { row_counts, schema_level: raw.schema_level, products_checksum: raw.products_checksum };
}

/** Differences between what a backup recorded and what a restored database holds; empty when they match. */
export function compareSnapshots(expected: RegistrySnapshot, actual: RegistrySnapshot, opts: { checksum: boolean }): string[] {
  const problems: string[] = [];
  const tables = new Set([...Object.keys(expected.row_counts), ...Object.keys(actual.row_counts)]);
  for (const t of [...tables].sort()) {
    const e = expected.row_counts[t];
    const a = actual.row_counts[t];
    if (e !== a) problems.push(`table ${t}: ${e ?? 'absent'} rows in the backup's metadata, ${a ?? 'absent'} restored`);
  }
  if (opts.checksum && expected.products_checksum !== actual.products_checksum) {
    problems.push(`products checksum: ${expected.products_checksum} in the metadata, ${actual.products_checksum} restored`);
  }
  return problems;
}
