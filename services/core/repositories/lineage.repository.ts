import type { Queryable } from '../db/pool';
import type { ProductStatus } from './product.types';

/** An input named in derived_from, as the lineage rules need it. */
export interface LineageInputRow {
  id: number;
  data_id: string;
  data_type: string;
  status: ProductStatus;
  obs_start: Date | null;
  obs_end: Date | null;
}

/** The products with these data_ids, locked FOR SHARE until the transaction ends (so none changes state meanwhile). */
export async function lockInputsByDataId(db: Queryable, dataIds: string[]): Promise<LineageInputRow[]> {
  const res = await db.query<LineageInputRow>(
    `SELECT id, data_id, data_type, status, obs_start, obs_end FROM products WHERE data_id = ANY($1::text[]) ORDER BY id FOR SHARE`,
    [dataIds],
  );
  return res.rows;
}

/** Records that product `productId` was derived from each of `inputIds`. */
export async function insertProductInputs(db: Queryable, productId: number, inputIds: number[]): Promise<void> {
  if (inputIds.length === 0) return;
  await db.query(
    `INSERT INTO product_inputs (product_id, input_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
    [productId, inputIds],
  );
}

/** The data_ids a product was registered as derived from, sorted. */
export async function listInputDataIds(db: Queryable, productId: number): Promise<string[]> {
  const res = await db.query<{ data_id: string }>(
    `SELECT p.data_id FROM product_inputs i JOIN products p ON p.id = i.input_id WHERE i.product_id = $1 ORDER BY p.data_id`,
    [productId],
  );
  return res.rows.map((r) => r.data_id);
}

/** One product reached by a lineage walk, with its distance (1 = a direct input or output). */
export interface LineageRow {
  data_id: string;
  data_type: string;
  status: ProductStatus;
  depth: number;
  /** data_ids of the products one step closer to the start through which this one was reached. */
  via: string[];
}

/**
 * Ancestors (what the product was derived from, transitively) or descendants (what was derived
 * from it), breadth first up to maxDepth, at most limit rows. Each product appears once, at its
 * shortest depth. Walks the primary key one way and product_inputs_input_idx the other.
 */
export async function walkLineage(db: Queryable, productId: number, direction: 'ancestors' | 'descendants', maxDepth: number, limit: number): Promise<LineageRow[]> {
  const [from, to] = direction === 'ancestors' ? ['product_id', 'input_id'] : ['input_id', 'product_id'];
  const res = await db.query<LineageRow>(
    // Inputs exist before the product that names them and edges are written only at registration,
    // so the graph has no cycles; UNION and the depth bound keep the walk finite regardless.
    `WITH RECURSIVE walk(id, via, depth) AS (
       SELECT e.${to}, e.${from}, 1 FROM product_inputs e WHERE e.${from} = $1
       UNION
       SELECT e.${to}, e.${from}, w.depth + 1
         FROM walk w JOIN product_inputs e ON e.${from} = w.id
        WHERE w.depth < $2
     ), best AS (
       SELECT id, min(depth) AS depth FROM walk GROUP BY id
     )
     SELECT p.data_id, p.data_type, p.status, b.depth,
            ARRAY(SELECT DISTINCT v.data_id FROM walk w JOIN products v ON v.id = w.via WHERE w.id = b.id AND w.depth = b.depth ORDER BY v.data_id) AS via
       FROM best b JOIN products p ON p.id = b.id
      ORDER BY b.depth, p.data_id
      LIMIT $3`,
    [productId, maxDepth, limit],
  );
  return res.rows;
}
