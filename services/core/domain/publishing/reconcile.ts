import fs from 'node:fs/promises';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import type { Config } from '../../config';
import type { PublishJobData } from '../../jobs/publish-queue';
import { scanTree } from '../../publish/scan-source';
import { tempRoot, TEMP_DIR_NAME } from '../../publish/temp-area';
import { hasDestinationInside, knownDataIds, listPublishedPage, ownedDestinations } from '../../repositories/reconcile.repository';
import { RETRACTION_DIR } from '../lifecycle/retract-product';
import { findOrphanTemporaries } from './remove-orphan-temporaries';

/** What the reconcile report needs. */
export interface ReconcileDeps {
  pool: Pool;
  queue: Queue<PublishJobData>;
  config: Pick<Config, 'paths'>;
}

/** Drift between registry, queue and both roots. Every list is empty on a healthy system. */
export interface ReconcileReport {
  healthy: boolean;
  generated_at: string;
  /** Total findings per kind; the lists hold at most `limit` of each. */
  counts: Record<'orphan_temporaries' | 'published_missing' | 'published_size_mismatch' | 'files_without_row' | 'jobs_without_row', number>;
  /** Entries in PRODUCTS_ROOT/.ferry-tmp that no current lease owns. */
  orphan_temporaries: Array<{ name: string; path: string }>;
  /** Published rows whose product is not at its published path. */
  published_missing: Array<{ data_id: string; path: string }>;
  /** Published rows whose product on disk has another size (or file count). */
  published_size_mismatch: Array<{ data_id: string; path: string; expected_bytes: number; actual_bytes: number; expected_files: number | null; actual_files: number }>;
  /** Files or whole directories in PRODUCTS_ROOT that no product row accounts for. */
  files_without_row: Array<{ path: string; type: 'file' | 'directory' | 'other' }>;
  /** Queue jobs whose product has no row. */
  jobs_without_row: Array<{ job_id: string; state: string }>;
}

const BATCH = 1000;
const JOB_STATES = ['wait', 'active', 'delayed', 'failed', 'paused', 'prioritized', 'completed'] as const;

/**
 * Builds the drift report (GET /api/monitoring/publish/reconcile). Read-only. It walks the
 * published rows in keyset pages of 1000 and stats each product, walks PRODUCTS_ROOT asking the
 * registry per directory (so an owned product directory is never descended into), and pages
 * through the queue's job ids: cost grows with the archive, so it is an on-demand audit, not
 * something to scrape.
 */
export async function buildReconcileReport(deps: ReconcileDeps, opts: { limit?: number } = {}): Promise<ReconcileReport> {
  const limit = opts.limit ?? 1000;
  const report: ReconcileReport = {
    healthy: true, generated_at: new Date().toISOString(),
    counts: { orphan_temporaries: 0, published_missing: 0, published_size_mismatch: 0, files_without_row: 0, jobs_without_row: 0 },
    orphan_temporaries: [], published_missing: [], published_size_mismatch: [], files_without_row: [], jobs_without_row: [],
  };
  const add = <K extends keyof ReconcileReport['counts']>(kind: K, item: ReconcileReport[K][number]) => {
    report.counts[kind]++;
    if (report[kind].length < limit) (report[kind] as unknown[]).push(item);
  };
  await reportOrphanTemporaries(deps, (i) => add('orphan_temporaries', i));
  await checkPublishedRows(deps, (i) => add('published_missing', i), (i) => add('published_size_mismatch', i));
  await findFilesWithoutRow(deps, (i) => add('files_without_row', i));
  await findJobsWithoutRow(deps, (i) => add('jobs_without_row', i));
  report.healthy = Object.values(report.counts).every((n) => n === 0);
  return report;
}

async function reportOrphanTemporaries(deps: ReconcileDeps, found: (i: { name: string; path: string }) => void) {
  for (const name of await findOrphanTemporaries(deps.pool, deps.config.paths.productsRoot)) {
    found({ name, path: path.join(tempRoot(deps.config.paths.productsRoot), name) });
  }
}

async function checkPublishedRows(
  deps: ReconcileDeps,
  missing: (i: ReconcileReport['published_missing'][number]) => void,
  mismatch: (i: ReconcileReport['published_size_mismatch'][number]) => void,
) {
  let after: { created_at: Date; id: number } | undefined;
  for (;;) {
    const rows = await listPublishedPage(deps.pool, after, BATCH);
    for (const row of rows) {
      const rel = row.published_path ?? row.destination_path;
      const p = path.join(deps.config.paths.productsRoot, rel);
      let snap;
      try {
        snap = await scanTree(p, row.kind);
      } catch (err) {
        const cls = (err as { errorClass?: string }).errorClass;
        if (cls === 'source_missing') missing({ data_id: row.data_id, path: rel });
        else mismatch({ data_id: row.data_id, path: rel, expected_bytes: row.size_bytes ?? 0, actual_bytes: -1, expected_files: row.file_count, actual_files: -1 });
        continue;
      }
      if (snap.totalSize !== row.size_bytes || (row.file_count !== null && snap.fileCount !== row.file_count)) {
        mismatch({ data_id: row.data_id, path: rel, expected_bytes: row.size_bytes ?? 0, actual_bytes: snap.totalSize, expected_files: row.file_count, actual_files: snap.fileCount });
      }
    }
    if (rows.length < BATCH) return;
    const last = rows[rows.length - 1]!;
    after = { created_at: last.created_at, id: last.id };
  }
}

async function findFilesWithoutRow(deps: ReconcileDeps, found: (i: ReconcileReport['files_without_row'][number]) => void) {
  const root = deps.config.paths.productsRoot;
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? path.join(root, rel) : root;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const children = entries
      .filter((e) => rel !== '' || (e.name !== TEMP_DIR_NAME && e.name !== RETRACTION_DIR && e.name !== '.ferry-data-root' && e.name !== 'lost+found'))
      .map((e) => ({ rel: rel ? `${rel}/${e.name}` : e.name, e }));
    for (let i = 0; i < children.length; i += BATCH) {
      const page = children.slice(i, i + BATCH);
      const ownedSet = await ownedDestinations(deps.pool, page.map((c) => c.rel));
      for (const c of page) {
        if (ownedSet.has(c.rel)) continue;
        if (!c.e.isDirectory()) {
          found({ path: c.rel, type: c.e.isFile() ? 'file' : 'other' });
          continue;
        }
        // A directory that holds some product is descended into; one that holds none is reported whole.
        if (await hasDestinationInside(deps.pool, c.rel)) await walk(c.rel);
        else found({ path: c.rel, type: 'directory' });
      }
    }
  };
  await walk('');
}

async function findJobsWithoutRow(deps: ReconcileDeps, found: (i: { job_id: string; state: string }) => void) {
  for (const state of JOB_STATES) {
    for (let start = 0; ; start += BATCH) {
      const jobs = await deps.queue.getJobs([state], start, start + BATCH - 1, true);
      const withId = jobs.filter((j) => j && j.id);
      if (withId.length === 0) break;
      const ids = withId.map((j) => (j.data?.data_id ?? '') as string);
      const known = await knownDataIds(deps.pool, ids);
      for (const j of withId) if (!known.has(j.data?.data_id)) found({ job_id: j.id!, state });
      if (jobs.length < BATCH) break;
    }
  }
}
