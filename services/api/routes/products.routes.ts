import { Router } from 'express';
import { getProduct } from '../../core/domain/products/get-product';
import { listProducts } from '../../core/domain/products/list-products';
import { DataIdLookup } from '../../core/domain/products/data-id-lookup';
import { registerProduct } from '../../core/domain/products/register-product';
import { registerProducts } from '../../core/domain/products/register-products';
import { RegistrationWriter } from '../../core/domain/products/registration-writer';
import { ValidationError } from '../../core/errors';
import { requestPublish } from '../../core/domain/products/request-publish';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import { requireScope } from '../middleware/require-scope';
import { dataIdParamsSchema } from '../schemas/common.schemas';
import { listProductsQuerySchema, registerBatchSchema, registerProductSchema } from '../schemas/products.schemas';
import type { ProductPageResponse } from '../schemas/products.responses';
import { presentBatch } from './batch.presenter';
import { presentProduct, presentProductDetail } from './product.presenter';

/**
 * /api/products: register (201 new, 200 when the identical product was registered before), register
 * a batch (each product answered with the status its single registration would get), list
 * with keyset pagination, one product with its events, and a publish request (202).
 */
export function productsRoutes(deps: RegistryDeps): Router {
  const router = Router();
  const single = { lookup: new DataIdLookup(deps.pool, deps.config.products.batchMax), writer: new RegistrationWriter(deps) };

  router.post('/', requireScope('publish'), async (req, res) => {
    const body = registerProductSchema.parse(req.body ?? {});
    const { product, created } = await registerProduct(deps, single, body);
    res.status(created ? 201 : 200).json(presentProduct(product));
  });

  router.post('/batch', requireScope('publish'), async (req, res) => {
    const { products } = registerBatchSchema.parse(req.body ?? {});
    const max = deps.config.products.batchMax;
    if (products.length > max) {
      throw new ValidationError('batch_too_large', `a batch takes at most ${max} products, got ${products.length}: split it`, 413, { max });
    }
    // Each product is validated alone, so a malformed one is refused with its own 400 and the rest go on.
    const parsed = products.map((item) => registerProductSchema.safeParse(item));
    const valid = parsed.flatMap((p, index) => (p.success ? [{ index, input: p.data }] : []));
    const outcomes = await registerProducts(deps, valid.map((v) => v.input));
    const answered = new Map(valid.map((v, i) => [v.index, outcomes[i]!]));
    res.json(presentBatch(products.map((_item, index) => {
      const p = parsed[index]!;
      return p.success ? answered.get(index)! : { outcome: 'refused' as const, error: p.error };
    }), products));
  });

  router.get('/', requireScope('read'), async (req, res) => {
    const page = await listProducts(deps, listProductsQuerySchema.parse(req.query));
    res.json({ products: page.products.map(presentProduct), next_cursor: page.next_cursor } satisfies ProductPageResponse);
  });

  router.get('/:data_id', requireScope('read'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    res.json(presentProductDetail(await getProduct(deps, data_id)));
  });

  router.post('/:data_id/publish', requireScope('publish'), async (req, res) => {
    const { data_id } = dataIdParamsSchema.parse(req.params);
    res.status(202).json(await requestPublish(deps, data_id));
  });

  return router;
}
