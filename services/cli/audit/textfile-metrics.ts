import fs from 'node:fs/promises';
import path from 'node:path';

/** The file node-exporter's textfile collector reads for the audit. */
export const AUDIT_METRICS_FILE = 'ferry_audit.prom';

/** How an audit run ended: every product checked and none mismatched, some mismatched, or it could not finish. */
export type AuditOutcome = 'ok' | 'mismatch' | 'incomplete';

export interface AuditMetrics {
  finishedAt: Date;
  outcome?: AuditOutcome;
  /** When the last audit that finished did (this run's end unless it is incomplete). */
  lastCompletedAt?: Date;
  mismatches: number;
  productsChecked: number;
  bytesChecked: number;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * The audit's result as Prometheus text exposition, written after every run whatever its outcome:
 * ferry_audit_last_run_timestamp_seconds stays the last *completed* audit (an incomplete run
 * carries the previous value over, so AuditStale fires when audits keep failing), the attempt and
 * its outcome are exported beside it.
 */
export function renderAuditMetrics(r: AuditMetrics): string {
  const outcome = r.outcome ?? (r.mismatches > 0 ? 'mismatch' : 'ok');
  const completed = r.lastCompletedAt ?? (outcome === 'incomplete' ? undefined : r.finishedAt);
  const lines: string[] = [];
  if (completed) {
    lines.push(
      '# HELP ferry_audit_last_run_timestamp_seconds Unix time the last completed ferryctl audit finished.',
      '# TYPE ferry_audit_last_run_timestamp_seconds gauge',
      `ferry_audit_last_run_timestamp_seconds ${seconds(completed)}`,
    );
  }
  lines.push(
    '# HELP ferry_audit_last_attempt_timestamp_seconds Unix time the last ferryctl audit ended, completed or not.',
    '# TYPE ferry_audit_last_attempt_timestamp_seconds gauge',
    `ferry_audit_last_attempt_timestamp_seconds ${seconds(r.finishedAt)}`,
    '# HELP ferry_audit_last_outcome Outcome of the last ferryctl audit (1 for the outcome it had).',
    '# TYPE ferry_audit_last_outcome gauge',
    ...(['ok', 'mismatch', 'incomplete'] as const).map((o) => `ferry_audit_last_outcome{outcome="${o}"} ${o === outcome ? 1 : 0}`),
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
  );
  return lines.join('\n');
}

/** The last completed audit's time from an existing metrics file, to carry it over an incomplete run. */
export async function previousCompletedAt(dir: string, name: string): Promise<Date | undefined> {
  const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
  const m = /^ferry_audit_last_run_timestamp_seconds (\d+)$/m.exec(text);
  return m ? new Date(Number(m[1]) * 1000) : undefined;
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
