import { DATA_ID_PATTERN } from '../schemas/common.schemas';
import { lineageQuerySchema, searchProductsQuerySchema } from '../schemas/lineage.schemas';
import { lineageResponseSchema, searchPageResponseSchema } from '../schemas/lineage.responses';
import { errorResponse, GUARDED_ERRORS, jsonResponse, needs, outputSchema, pathParameter, queryParameters, type JsonSchema } from './openapi-helpers';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const validation = errorResponse('Invalid request', ['validation_error']);

/** Schemas of the lineage and search responses, generated from their zod declarations. */
export const lineageSchemas: Record<string, JsonSchema> = {
  Lineage: outputSchema(lineageResponseSchema),
  SearchPage: outputSchema(searchPageResponseSchema),
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
