import type { ProductSelection } from '../../repositories/lifecycle.repository';

/** The filter language every bulk verb takes (retry-all, bulk discard, the failed list). */
export type SelectionInput = Omit<ProductSelection, 'state'>;

/** What a bulk verb did (or, in a dry run, would do) to one product. */
export interface BulkItem {
  data_id: string;
  data_type: string;
  error_class: string | null;
  attempts: number;
  since: Date;
  outcome: 'done' | 'would_do' | 'skipped' | 'error';
  message?: string;
}

/** A bulk verb's answer: one item per selected product, in the selection's order, and the totals. */
export interface BulkResult {
  verb: string;
  dry_run: boolean;
  total_selected: number;
  done: number;
  skipped: number;
  errors: number;
  results: BulkItem[];
}

/** Totals over the per-product items. */
export function summarise(verb: string, dryRun: boolean, results: BulkItem[]): BulkResult {
  const count = (o: BulkItem['outcome']) => results.filter((r) => r.outcome === o).length;
  return { verb, dry_run: dryRun, total_selected: results.length, done: count('done'), skipped: count('skipped'), errors: count('error'), results };
}
