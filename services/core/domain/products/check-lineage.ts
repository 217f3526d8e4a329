import type { Queryable } from '../../db/pool';
import { ValidationError } from '../../errors';
import type { ProductTypeDefinition } from '../../product-types/product-type.schema';
import { lockInputsByDataId } from '../../repositories/lineage.repository';

/** Most inputs one registration may name (a day of DSA-110 images fits easily). */
export const MAX_DERIVED_FROM = 10_000;

function refuse(message: string, details: Record<string, unknown>): ValidationError {
  return new ValidationError('lineage_unmet', message, 422, details);
}

/**
 * Checks derived_from against the type's lineage rules inside the registration's transaction and
 * returns the inputs' row ids. Every input must be registered; the type may require them
 * published, of given types, between min and max in number, and observed within a bounded span
 * (earliest start to latest end). The inputs are locked FOR SHARE, so none changes state before
 * the registration commits. Refusals are 422 lineage_unmet naming the inputs at fault.
 */
export async function checkLineage(tx: Queryable, def: ProductTypeDefinition, dataId: string, derivedFrom: readonly string[]): Promise<number[]> {
  const wanted = [...new Set(derivedFrom)];
  const rules = def.lineage;
  if (wanted.includes(dataId)) throw refuse(`${dataId} cannot be derived from itself`, { inputs: [dataId] });
  if (rules && wanted.length < rules.min_inputs) {
    throw refuse(`this type needs at least ${rules.min_inputs} input${rules.min_inputs === 1 ? '' : 's'} in derived_from, got ${wanted.length}`, { min_inputs: rules.min_inputs });
  }
  if (rules && wanted.length > rules.max_inputs) throw refuse(`this type takes at most ${rules.max_inputs} inputs, got ${wanted.length}`, { max_inputs: rules.max_inputs });
  if (wanted.length === 0) return [];
  const rows = await lockInputsByDataId(tx, wanted);
  const found = new Set(rows.map((r) => r.data_id));
  const missing = wanted.filter((d) => !found.has(d)).sort();
  if (missing.length > 0) throw refuse(`derived_from names products that are not registered: ${missing.slice(0, 20).join(', ')}`, { missing });
  const types = rules?.input_types;
  if (types && types.length > 0) {
    const wrong = rows.filter((r) => !types.includes(r.data_type)).map((r) => r.data_id).sort();
    if (wrong.length > 0) throw refuse(`inputs must be of type ${types.join(' or ')}: ${wrong.slice(0, 20).join(', ')} are not`, { wrong_type: wrong });
  }
  if (rules?.require === 'published') {
    const pending = rows.filter((r) => r.status !== 'published').map((r) => r.data_id).sort();
    if (pending.length > 0) throw refuse(`inputs must be published first: ${pending.slice(0, 20).join(', ')} are not yet`, { not_published: pending });
  }
  if (rules?.max_span_seconds !== undefined) {
    const untimed = rows.filter((r) => r.obs_start === null).map((r) => r.data_id).sort();
    if (untimed.length > 0) throw refuse(`the time span of the inputs is bounded, but ${untimed.slice(0, 20).join(', ')} have no observation time`, { untimed });
    const start = Math.min(...rows.map((r) => r.obs_start!.getTime()));
    const end = Math.max(...rows.map((r) => (r.obs_end ?? r.obs_start!).getTime()));
    const span = (end - start) / 1000;
    if (span > rules.max_span_seconds) {
      throw refuse(`the inputs span ${span} s of observation, more than this type allows (${rules.max_span_seconds} s)`, {
        span_seconds: span, max_span_seconds: rules.max_span_seconds,
      });
    }
  }
  return rows.map((r) => r.id);
}
