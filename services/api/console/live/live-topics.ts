import type { ConsoleOverview } from '../../../core/domain/console/console-overview';
import { getConsoleOverview } from '../../../core/domain/console/console-overview';
import { findProductDetail } from '../../../core/repositories/product-detail.repository';
import type { ProductEventRow, ProductRow } from '../../../core/repositories/product.types';
import type { ConsoleDeps } from '../console-deps';

/** What a live topic carries: the overview, or one product with its events. */
export type LiveData = { kind: 'overview'; overview: ConsoleOverview } | { kind: 'product'; product: ProductRow; events: ProductEventRow[] };

const PRODUCT_TOPIC = /^product:(.{1,256})$/s;

/** Loads a topic (`overview` or `product:<data_id>`); undefined for an unknown topic or product. */
export function liveLoader(deps: ConsoleDeps): (topic: string) => Promise<LiveData | undefined> {
  return async (topic) => {
    if (topic === 'overview') return { kind: 'overview', overview: await getConsoleOverview(deps) };
    const m = PRODUCT_TOPIC.exec(topic);
    if (!m) return undefined;
    const detail = await findProductDetail(deps.pool, m[1]!);
    return detail && { kind: 'product', product: detail.product, events: detail.events };
  };
}
