/** One measured line of a benchmark part. */
export interface Row {
  name: string;
  seconds?: number;
  ratio?: number;
  [figure: string]: number | string | undefined;
}

/** What each benchmark part returns: a table, its baseline, and the targets it met or missed. */
export interface PartResult {
  part: string;
  title: string;
  baseline: string;
  rows: Row[];
  /** Peak resident memory of Ferry's processes during the part, in bytes. */
  peak_rss: { api?: number; worker?: number };
  targets: { name: string; ok: boolean }[];
  /** Other figures measured in the same run, printed under the table. */
  notes?: string[];
  /** SHA-256 throughput measured in the same run (large part), MB/s. */
  sha256_rates?: { node_mb_s: number; openssl_mb_s?: number; sha256sum_mb_s?: number };
}

export interface BenchContext {
  workDir: string;
  repeat: number;
  largeBytes: number;
  smallCount: number;
  dirFiles: number;
  concurrency: number;
  scaleRows: number;
}

/** Adds `ratio` = the row's figure / the baseline row's figure. */
export function withRatios(rows: Row[], baseline: Row, figure = 'seconds'): Row[] {
  return rows.map((r) => ({ ...r, ratio: Number(r[figure]) / Number(baseline[figure]) }));
}
