import { MAX_RETRY_WAIT_SECONDS } from '../../core/domain/monitoring/retry-product';
import { DATA_ID_PATTERN } from '../schemas/common.schemas';
import { retryAllQuerySchema } from '../schemas/lifecycle.schemas';
import { pauseResponseSchema, workerStatusResponseSchema } from '../schemas/lifecycle.responses';
import { listFailedQuerySchema, reconcileQuerySchema, retryQuerySchema } from '../schemas/monitoring.schemas';
import {
  failedListResponseSchema, publishStatusResponseSchema, reconcileReportResponseSchema, retryAllResponseSchema, retryResponseSchema,
  serviceStatusResponseSchema,
} from '../schemas/monitoring.responses';
import {
  batchResponseSchema, productEventResponseSchema, productPageResponseSchema, productResponseSchema, productWithEventsResponseSchema, publishRequestResponseSchema,
} from '../schemas/products.responses';
import { listProductsQuerySchema, registerBatchDocumentedSchema, registerProductSchema } from '../schemas/products.schemas';
import {
  errorResponse, GUARDED_ERRORS, inputSchema, jsonResponse, needs, outputSchema, pathParameter, queryParameters, type JsonSchema,
} from './openapi-helpers';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dataIdParam = pathParameter('data_id', { type: 'string', pattern: DATA_ID_PATTERN.source });
const validation = errorResponse('Invalid request', ['validation_error']);

/** Schemas of the registry's responses, generated from their zod declarations. */
export const registrySchemas: Record<string, JsonSchema> = {
  Product: outputSchema(productResponseSchema),
  ProductWithEvents: outputSchema(productWithEventsResponseSchema),
  ProductEvent: outputSchema(productEventResponseSchema),
  Pause: outputSchema(pauseResponseSchema),
  WorkerStatus: outputSchema(workerStatusResponseSchema),
};

const registerErrors = {
  '400': errorResponse('Invalid body or stage path', [
    'validation_error', 'malformed_json', 'invalid_stage_path', 'path_outside_stage_root', 'reserved_path',
  ]),
  '409': errorResponse('data_id registered with different content, the destination is taken or nests with another, or the superseded product is in flight or already superseded', [
    'data_id_conflict', 'destination_conflict', 'supersedes_in_progress', 'already_superseded',
  ]),
  '413': errorResponse('Body larger than 1 MiB', ['payload_too_large']),
  '415': errorResponse('Body is not JSON', ['unsupported_media_type']),
  '422': errorResponse('Unknown type, a source that is missing, empty, unreadable or not a regular file or directory, one its type refuses, or a supersedes naming itself or an unknown product', [
    'unknown_data_type', 'source_missing', 'source_empty', 'source_not_regular', 'source_unreadable', 'metadata_invalid', 'type_mismatch', 'lineage_unmet',
    'supersedes_self', 'supersedes_unknown',
  ]),
};

/** OpenAPI paths of the product registry, monitoring and status routes. */
export const registryPaths: Record<string, JsonSchema> = {
  '/api/products': {
    post: {
      summary: 'Register a staged product',
      description: '201 with the new product; 200 with the existing one when the identical product (same data_id, data_type, stage_path, expected_sha256, metadata) was registered before. Enqueued for publishing unless auto_publish is false.',
      ...needs('publish'),
      requestBody: { required: true, content: { 'application/json': { schema: inputSchema(registerProductSchema) } } },
      responses: {
        '201': jsonResponse('Registered', ref('Product')),
        '200': jsonResponse('The identical product was already registered', ref('Product')),
        ...registerErrors,
        ...GUARDED_ERRORS,
      },
    },
    get: {
      summary: 'List products, oldest first, with keyset pagination',
      ...needs('read'),
      parameters: queryParameters(listProductsQuerySchema),
      responses: {
        '200': jsonResponse('One page', outputSchema(productPageResponseSchema)),
        '400': errorResponse('Invalid query', ['validation_error', 'invalid_cursor']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/products/batch': {
    post: {
      summary: 'Register many staged products in one transaction, each answered on its own',
      description: 'Each product is validated and checked exactly as POST /api/products does it, and its result carries the status and error code that registration would answer (201, 200, or a 4xx with its code). A refused product writes nothing and does not stop the others; the rest commit together in one transaction. A database failure rolls back the whole batch (503). At most REGISTER_BATCH_MAX products (default 500), and the body stays within 1 MiB.',
      ...needs('publish'),
      requestBody: { required: true, content: { 'application/json': { schema: inputSchema(registerBatchDocumentedSchema) } } },
      responses: {
        '200': jsonResponse('Every product answered at its index', outputSchema(batchResponseSchema)),
        '400': errorResponse('The envelope is invalid (not {products: [...]}, or empty)', ['validation_error', 'malformed_json']),
        '413': errorResponse('More products than REGISTER_BATCH_MAX, or a body larger than 1 MiB', ['batch_too_large', 'payload_too_large']),
        '415': errorResponse('Body is not JSON', ['unsupported_media_type']),
        '503': errorResponse('PostgreSQL unreachable, too slow, or it rolled the batch back under contention: nothing was written, retry', ['database_unavailable', 'database_timeout', 'database_busy']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/products/{data_id}': {
    get: {
      summary: 'One product with its per-file manifest (directories; null otherwise) and its events',
      ...needs('read'),
      parameters: [dataIdParam],
      responses: {
        '200': jsonResponse('The product', ref('ProductWithEvents')),
        '400': validation,
        '404': errorResponse('Unknown data_id', ['product_not_found']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/products/{data_id}/publish': {
    post: {
      summary: 'Request publishing of a product in staging (idempotent)',
      ...needs('publish'),
      parameters: [dataIdParam],
      responses: {
        '202': jsonResponse('Queued', outputSchema(publishRequestResponseSchema)),
        '400': validation,
        '404': errorResponse('Unknown data_id', ['product_not_found']),
        '409': errorResponse('Already published, failed (an admin retries it), or discarded or retracted', ['already_published', 'product_failed', 'invalid_state']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/monitoring/publish/status': {
    get: {
      summary: 'Registry-wide publish figures; success rate and recent failures over the last 24 h of the event log',
      ...needs('read'),
      responses: {
        '200': jsonResponse('Figures', outputSchema(publishStatusResponseSchema)),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/monitoring/publish/failed': {
    get: {
      summary: 'Failed products picked by the bulk filter (error class, data type, failure time, attempts), oldest failure first unless order=newest',
      ...needs('read'),
      parameters: queryParameters(listFailedQuerySchema),
      responses: {
        '200': jsonResponse('Failed products', outputSchema(failedListResponseSchema)),
        '400': validation,
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/monitoring/publish/reconcile': {
    get: {
      summary: 'Drift between the registry, the queue and both data roots',
      description: 'Orphan temporaries, published rows whose files are missing or differ in size, files in PRODUCTS_ROOT with no row, jobs with no row. healthy is true when every list is empty. It walks the archive: run it on demand.',
      ...needs('admin'),
      parameters: queryParameters(reconcileQuerySchema),
      responses: {
        '200': jsonResponse('Drift report', outputSchema(reconcileReportResponseSchema)),
        '400': validation,
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/monitoring/publish/retry/{data_id}': {
    post: {
      summary: 'Retry one product',
      description: `failed → back to staging with a fresh attempt budget and enqueued (retried true); staging or publishing: already on its way, nothing changes (retried false). With wait=SECONDS (at most ${MAX_RETRY_WAIT_SECONDS}, and less than REQUEST_TIMEOUT_SECONDS) the reply waits for published or failed; otherwise status is queued at once.`,
      ...needs('admin'),
      parameters: [dataIdParam, ...queryParameters(retryQuerySchema)],
      responses: {
        '200': jsonResponse('Outcome', outputSchema(retryResponseSchema)),
        '400': validation,
        '404': errorResponse('Unknown data_id', ['product_not_found']),
        '409': errorResponse('Already published, or discarded or retracted', ['already_published', 'invalid_state']),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/monitoring/publish/retry-all': {
    post: {
      summary: 'Retry the failed products a filter picks, oldest or newest first; dry_run lists them; each product answered on its own',
      ...needs('admin'),
      parameters: queryParameters(retryAllQuerySchema),
      responses: {
        '200': jsonResponse('What was retried', outputSchema(retryAllResponseSchema)),
        '400': validation,
        ...GUARDED_ERRORS,
      },
    },
  },
  '/api/status': {
    get: {
      summary: 'Queue depth by state, every live worker (last seen, what it copies: bytes, rate, ETA) and the pauses in force',
      ...needs('read'),
      responses: {
        '200': jsonResponse('Status', outputSchema(serviceStatusResponseSchema)),
        ...GUARDED_ERRORS,
      },
    },
  },
};
