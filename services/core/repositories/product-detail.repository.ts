import type { Queryable } from '../db/pool';
import { prepared } from '../db/prepared';
import { productColumns, type ProductEventRow, type ProductRow } from './product.types';

/** One product as its detail views show it: the row, every event oldest first, its inputs' data_ids and its successor. */
export interface ProductDetail {
  product: ProductRow;
  events: ProductEventRow[];
  derivedFrom: string[];
  /** The later product that names this one in `supersedes`, if any. */
  supersededBy: string | undefined;
}

type DetailRow = ProductRow & {
  detail_events: Array<Omit<ProductEventRow, 'created_at'> & { created_at: string }>;
  detail_inputs: string[];
  detail_superseded_by: string | null;
};

/**
 * The product, its events, its inputs and its successor in one statement: the detail read is the api's hottest
 * path, and one round trip on one pool client costs less than three. Events travel as JSON, so
 * their timestamps come back as text and are turned into Dates here (the only column pg would
 * otherwise have parsed). Prepared, so it names the product's columns.
 */
const DETAIL_SQL = `
SELECT ${productColumns('p')},
  COALESCE((SELECT json_agg(e ORDER BY e.id) FROM product_events e WHERE e.product_id = p.id), '[]'::json) AS detail_events,
  ARRAY(SELECT q.data_id FROM product_inputs i JOIN products q ON q.id = i.input_id WHERE i.product_id = p.id ORDER BY q.data_id) AS detail_inputs,
  (SELECT s.data_id FROM products s WHERE s.supersedes = p.data_id) AS detail_superseded_by
FROM products p WHERE p.data_id = $1`;

export async function findProductDetail(db: Queryable, dataId: string): Promise<ProductDetail | undefined> {
  const res = await db.query<DetailRow>(prepared(DETAIL_SQL, [dataId]));
  const row = res.rows[0];
  if (!row) return undefined;
  const { detail_events, detail_inputs, detail_superseded_by, ...product } = row;
  return {
    product,
    events: detail_events.map((e) => ({ ...e, created_at: new Date(e.created_at) })),
    derivedFrom: detail_inputs,
    supersededBy: detail_superseded_by ?? undefined,
  };
}
