import type { Queryable } from '../db/pool';
import type { ProductEventRow } from './product.types';

/** Every event of one product, oldest first. */
export async function listEventsForProduct(db: Queryable, productId: number): Promise<ProductEventRow[]> {
  const res = await db.query<ProductEventRow>('SELECT * FROM product_events WHERE product_id = $1 ORDER BY id', [productId]);
  return res.rows;
}
