import {
  amendBodySchema, bandwidthBodySchema, discardAllBodySchema, discardAllQuerySchema, discardBodySchema, holdBodySchema, manifestsQuerySchema,
  pauseBodySchema, resumeBodySchema, retractBodySchema,
} from '../schemas/lifecycle.schemas';
import { DATA_ID_PATTERN } from '../schemas/common.schemas';
import {
  errorResponse, exactObject, GUARDED_ERRORS, inputSchema, jsonResponse, needs, nullable, pathParameter, queryParameters, type JsonSchema,
} from './openapi-helpers';
import { bulkResultSchema } from './registry.paths';
import type { z } from 'zod';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dataIdParam = pathParameter('data_id', { type: 'string', pattern: DATA_ID_PATTERN.source });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: inputSchema(schema) } } });
const refused = errorResponse('The product is in a state this verb does not accept (details.status names it)', ['invalid_state']);
const notFound = errorResponse('Unknown data_id', ['product_not_found']);
const validation = errorResponse('Invalid request', ['validation_error']);

/** One operator verb on one product. */
function verb(summary: string, description: string, bodySchema: z.ZodType, answer: JsonSchema): JsonSchema {
  return {
    post: {
      summary, description, ...needs('admin'), parameters: [dataIdParam], requestBody: body(bodySchema),
      responses: { '200': jsonResponse('Done (or nothing to do)', answer), '400': validation, '404': notFound, '409': refused, ...GUARDED_ERRORS },
    },
  };
}

const pausesAnswer = exactObject({ changed: { type: 'boolean' }, pauses: { type: 'array', items: ref('Pause') } });
const bandwidthAnswer = exactObject({
  max_bytes_per_sec: { type: 'integer', description: '0 = unlimited' },
  source: { enum: ['setting', 'environment'] },
  updated_by: nullable('string'),
  updated_at: nullable('string', { format: 'date-time' }),
});

/** OpenAPI paths of the operator verbs, bulk verbs, pause/resume, bandwidth and the audit's manifest pages. */
export const lifecyclePaths: Record<string, JsonSchema> = {
  '/api/products/{data_id}/discard': verb(
    'Discard a failed or held product', 'Kept as discarded with who and why; the staged source stays unless remove_source (a worker removes it). Left out of the health figures.',
    discardBodySchema,
    exactObject({ data_id: { type: 'string' }, status: { const: 'discarded' }, previous_status: { type: 'string' }, source: { enum: ['kept', 'removal_pending'] } }),
  ),
  '/api/products/{data_id}/amend': verb(
    'Correct expected_sha256 and/or metadata of a staging, held or failed product', 'The event `amended` keeps the old and new values.',
    amendBodySchema,
    exactObject({ data_id: { type: 'string' }, status: { type: 'string' }, changed: { type: 'array', items: { type: 'string' } } }),
  ),
  '/api/products/{data_id}/retract': verb(
    'Retract a published product', 'retracted at once; a worker moves the files into PRODUCTS_ROOT/.ferry-retracted/ (never deleted), retracted_path then names it.',
    retractBodySchema,
    exactObject({ data_id: { type: 'string' }, status: { const: 'retracted' }, published_path: nullable('string'), move: { const: 'pending' } }),
  ),
  '/api/products/{data_id}/hold': verb(
    'Hold a waiting staging product', 'No worker claims it until released; already held: changed false.',
    holdBodySchema, exactObject({ data_id: { type: 'string' }, state: { const: 'held' }, changed: { type: 'boolean' } }),
  ),
  '/api/products/{data_id}/release': verb(
    'Release a held product', 'Due now and enqueued; already waiting: changed false.',
    holdBodySchema, exactObject({ data_id: { type: 'string' }, state: { const: 'waiting' }, changed: { type: 'boolean' } }),
  ),
  '/api/monitoring/publish/discard-all': {
    post: {
      summary: 'Discard the failed (or held) products a filter picks; dry_run lists them',
      ...needs('admin'), parameters: queryParameters(discardAllQuerySchema), requestBody: body(discardAllBodySchema),
      responses: { '200': jsonResponse('Per product', bulkResultSchema), '400': validation, ...GUARDED_ERRORS },
    },
  },
  '/api/monitoring/publish/manifests': {
    get: {
      summary: 'Published products with their digests and per-file manifests, up to 500 per page (for audits)',
      ...needs('read'), parameters: queryParameters(manifestsQuerySchema),
      responses: {
        '200': jsonResponse('One page', exactObject({
          products: {
            type: 'array',
            items: exactObject({
              data_id: { type: 'string' }, data_type: { type: 'string' }, kind: { enum: ['file', 'directory'] }, published_path: nullable('string'),
              size_bytes: nullable('integer'), file_count: nullable('integer'), checksum_sha256: nullable('string'),
              manifest: { type: ['array', 'null'], items: { type: 'object' } },
            }),
          },
          next_cursor: nullable('string'),
        })),
        '400': errorResponse('Invalid query', ['validation_error', 'invalid_cursor']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/publishing/controls': {
    get: {
      summary: 'Pauses in force and the bandwidth limit', ...needs('read'),
      responses: { '200': jsonResponse('Controls', exactObject({ paused: { type: 'array', items: ref('Pause') }, bandwidth: bandwidthAnswer })), ...GUARDED_ERRORS },
    },
  },
  '/api/publishing/pause': {
    post: {
      summary: 'Pause publishing (whole service, or data_type): claims stop, running copies finish', ...needs('admin'), requestBody: body(pauseBodySchema),
      responses: { '200': jsonResponse('Pauses in force', pausesAnswer), '400': validation, '422': errorResponse('Unknown data type', ['unknown_data_type']), ...GUARDED_ERRORS },
    },
  },
  '/api/publishing/resume': {
    post: {
      summary: 'Lift a pause; waiting jobs start at once', ...needs('admin'), requestBody: body(resumeBodySchema),
      responses: { '200': jsonResponse('Pauses in force', pausesAnswer), '400': validation, ...GUARDED_ERRORS },
    },
  },
  '/api/publishing/bandwidth': {
    put: {
      summary: 'Set the bandwidth limit every worker applies to its copies (null: back to PUBLISH_MAX_BYTES_PER_SEC)', ...needs('admin'),
      requestBody: body(bandwidthBodySchema),
      responses: { '200': jsonResponse('The limit in force', bandwidthAnswer), '400': validation, ...GUARDED_ERRORS },
    },
  },
};

