import fs from 'node:fs/promises';
import path from 'node:path';

/** The file node-exporter's textfile collector reads for the audit. */
export const AUDIT_METRICS_FILE = 'ferry_audit.prom';

/** The last audit's result as Prometheus text exposition. */
export function renderAuditMetrics(r: { finishedAt: Date; mismatches: number; productsChecked: number; bytesChecked: number }): string {
  const ts = Math.floor(r.finishedAt.getTime() / 1000);
  return [
    '# HELP ferry_audit_last_run_timestamp_seconds Unix time the last completed ferryctl audit finished.',
    '# TYPE ferry_audit_last_run_timestamp_seconds gauge',
    `ferry_audit_last_run_timestamp_seconds ${ts}`,
    '# HELP ferry_audit_mismatches Products whose files did not match the registry in the last audit.',
    '# TYPE ferry_audit_mismatches gauge',
    `ferry_audit_mismatches ${r.mismatches}`,
    '# HELP ferry_audit_products_checked Products re-hashed by the last audit.',
    '# TYPE ferry_audit_products_checked gauge',
    `ferry_audit_products_checked ${r.productsChecked}`,
    '# HELP ferry_audit_checked_bytes Bytes re-hashed by the last audit.',
    '# TYPE ferry_audit_checked_bytes gauge',
    `ferry_audit_checked_bytes ${r.bytesChecked}`,
    '',
  ].join('\n');
}

/**
 * Writes a textfile atomically: a temporary name the collector ignores (not *.prom), fsync, then
 * rename, so a scrape never reads half a file.
 */
export async function writeTextfile(dir: string, name: string, content: string): Promise<string> {
  const final = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.tmp`);
  const fh = await fs.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, final);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return final;
}
