import { Router } from 'express';
import { getConsoleOverview } from '../../../core/domain/console/console-overview';
import { parseMetadataFilter, searchProducts } from '../../../core/domain/console/search-products';
import { listDescendantsToReview } from '../../../core/domain/lifecycle/retract-product';
import { getProduct } from '../../../core/domain/products/get-product';
import { manifestPage } from '../../../core/repositories/product-search.repository';
import type { ProductStatus } from '../../../core/repositories/product.types';
import { productQuery, productsQuery, utcDate } from '../console.schemas';
import type { ConsoleDeps } from '../console-deps';
import { overviewPage } from '../views/overview.view';
import { productPage } from '../views/product.view';
import { productsPage } from '../views/products.view';
import { viewContext } from '../views/view-context';

/** Files per manifest page. */
export const MANIFEST_PAGE = 100;
/** Products per list page. */
export const PRODUCTS_PAGE = 50;

/** Overview, products search and the product page. */
export function pagesRoutes(deps: ConsoleDeps): Router {
  const router = Router();
  const grafana = deps.config.console.grafanaUrl;
  const send = (res: Parameters<Parameters<Router['get']>[1]>[1], page: { value: string }) => res.type('html').send(page.value);

  router.get('/', async (req, res) => {
    send(res, overviewPage(viewContext(req, grafana), await getConsoleOverview(deps), deps.config.products.types));
  });

  router.get('/products', async (req, res) => {
    const q = productsQuery.parse(req.query);
    const page = await searchProducts(deps, {
      status: (q.status || undefined) as ProductStatus | undefined,
      data_type: q.data_type || undefined,
      error_class: q.error_class || undefined,
      created_since: utcDate(q.since),
      created_until: utcDate(q.until),
      data_id_prefix: q.data_id || undefined,
      metadata: parseMetadataFilter(q.metadata),
      cursor: q.cursor || undefined,
      limit: PRODUCTS_PAGE,
    });
    const { cursor: _cursor, ...form } = q;
    send(res, productsPage(viewContext(req, grafana), form, deps.config.products.types, page.products, page.next_cursor));
  });

  router.get('/products/:dataId', async (req, res) => {
    const { files } = productQuery.parse(req.query);
    const { product, events, supersededBy } = await getProduct(deps, String(req.params.dataId));
    const manifest = await manifestPage(deps.pool, product.id, files, MANIFEST_PAGE);
    // A retracted product's page lists what was derived from it: the next candidates to retract.
    const review = product.status === 'retracted' ? await listDescendantsToReview(deps, product.id) : undefined;
    send(res, productPage(viewContext(req, grafana), product, events, deps.config.console.hostPaths, { ...manifest, offset: files, pageSize: MANIFEST_PAGE }, { supersededBy, review }));
  });

  return router;
}
