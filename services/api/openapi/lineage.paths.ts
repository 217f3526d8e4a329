import { PRODUCT_STATUSES } from '../../core/repositories/product.types';
import { DATA_ID_PATTERN } from '../schemas/common.schemas';
import { lineageQuerySchema, searchProductsQuerySchema } from '../schemas/lineage.schemas';
import { errorResponse, exactObject, GUARDED_ERRORS, jsonResponse, needs, nullable, pathParameter, queryParameters, type JsonSchema } from './openapi-helpers';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullableDateTime = nullable('string', { format: 'date-time' });
const validation = errorResponse('Invalid request', ['validation_error']);

/** Schemas of the lineage and search responses. */
export const lineageSchemas: Record<string, JsonSchema> = {
  Lineage: exactObject({
    data_id: { type: 'string' },
    direction: { enum: ['ancestors', 'descendants'] },
    products: {
      type: 'array',
      items: exactObject({
        data_id: { type: 'string' },
        data_type: { type: 'string' },
        status: { enum: [...PRODUCT_STATUSES] },
        depth: { type: 'integer', description: '1 = a direct input (ancestors) or output (descendants)' },
        via: { type: 'array', items: { type: 'string' }, description: 'data_ids one step closer through which it was reached' },
      }),
    },
    truncated: { type: 'boolean' },
  }),
  SearchPage: exactObject({
    products: {
      type: 'array',
      items: exactObject({
        data_id: { type: 'string' },
        data_type: { type: 'string' },
        status: { enum: [...PRODUCT_STATUSES] },
        published_path: nullable('string'),
        obs_start: { type: 'string', format: 'date-time' },
        obs_end: nullableDateTime,
        ra_deg: nullable('number'),
        dec_deg: nullable('number'),
        freq_hz: nullable('number'),
        distance_deg: { ...nullable('number'), description: 'separation from the cone centre' },
      }),
    },
    next_cursor: nullable('string'),
  }),
};

const lineageOp = (direction: string) => ({
  get: {
    summary: `The product's ${direction}, nearest first`,
    ...needs('read'),
    parameters: [pathParameter('data_id', { type: 'string', pattern: DATA_ID_PATTERN.source }), ...queryParameters(lineageQuerySchema)],
    responses: {
      '200': jsonResponse('The lineage', ref('Lineage')),
      '400': validation,
      '404': errorResponse('Unknown data_id', ['product_not_found']),
      ...GUARDED_ERRORS,
    },
  },
});

/** Lineage and sky/time search routes. */
export const lineagePaths: Record<string, JsonSchema> = {
  '/api/products/{data_id}/ancestors': lineageOp('ancestors'),
  '/api/products/{data_id}/descendants': lineageOp('descendants'),
  '/api/search/products': {
    get: {
      summary: 'Products by observation time range (overlap) and/or cone (ra, dec, radius in degrees)',
      ...needs('read'),
      parameters: queryParameters(searchProductsQuerySchema),
      responses: {
        '200': jsonResponse('One page, in observation order', ref('SearchPage')),
        '400': errorResponse('Invalid request', ['validation_error', 'search_unbounded', 'invalid_cursor']),
        ...GUARDED_ERRORS,
      },
    },
  },
};
