import { MAX_RETRY_WAIT_SECONDS } from '../../core/domain/monitoring/retry-product';
import { PRODUCT_STATUSES } from '../../core/repositories/product.types';
import { DATA_ID_PATTERN } from '../schemas/common.schemas';
import { retryAllQuerySchema } from '../schemas/lifecycle.schemas';
import { listFailedQuerySchema, reconcileQuerySchema, retryQuerySchema } from '../schemas/monitoring.schemas';
import { listProductsQuerySchema, registerProductSchema } from '../schemas/products.schemas';
import {
  errorResponse, exactObject, GUARDED_ERRORS, inputSchema, jsonResponse, needs, nullable, pathParameter, queryParameters, type JsonSchema,
} from './openapi-helpers';

const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = nullable('string', { format: 'date-time' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dataIdParam = pathParameter('data_id', { type: 'string', pattern: DATA_ID_PATTERN.source });
const validation = errorResponse('Invalid request', ['validation_error']);

const productProperties: Record<string, JsonSchema> = {
  data_id: { type: 'string' },
  data_type: { type: 'string' },
  stage_path: { type: 'string', description: 'Relative to STAGE_ROOT, symlinks resolved' },
  destination_path: { type: 'string', description: 'Relative to PRODUCTS_ROOT' },
  published_path: nullable('string'),
  kind: { enum: ['file', 'directory'] },
  status: { enum: [...PRODUCT_STATUSES] },
  size_bytes: nullable('integer'),
  file_count: nullable('integer'),
  checksum_sha256: nullable('string'),
  expected_sha256: nullable('string'),
  publish_attempts: { type: 'integer' },
  publish_error: nullable('string'),
  error_class: nullable('string'),
  lease_owner: nullable('string'),
  lease_expires_at: nullableDateTime,
  metadata: { type: 'object' },
  created_at: dateTime,
  staged_at: dateTime,
  published_at: nullableDateTime,
  updated_at: dateTime,
  next_attempt_at: { ...nullableDateTime, description: 'null while held (registered with auto_publish false)' },
  held: { type: 'boolean', description: 'staging with no due time: waits for a release' },
  retracted_path: nullable('string', { description: 'Where a retracted product lies now, relative to PRODUCTS_ROOT' }),
  supersedes: nullable('string', { description: 'data_id of the product this one corrects' }),
};

/** One product's line in a bulk verb's answer. */
export const bulkItemSchema: JsonSchema = {
  type: 'object',
  required: ['data_id', 'data_type', 'error_class', 'attempts', 'since', 'outcome'],
  additionalProperties: false,
  properties: {
    data_id: { type: 'string' }, data_type: { type: 'string' }, error_class: nullable('string'), attempts: { type: 'integer' },
    since: { ...dateTime, description: 'When the product entered its state' },
    outcome: { enum: ['done', 'would_do', 'skipped', 'error'], description: 'would_do: a dry run' },
    message: { type: 'string' },
  },
};

/** A bulk verb's answer. */
export const bulkResultSchema: JsonSchema = exactObject({
  verb: { type: 'string' }, dry_run: { type: 'boolean' }, total_selected: { type: 'integer' }, done: { type: 'integer' },
  skipped: { type: 'integer' }, errors: { type: 'integer' }, results: { type: 'array', items: bulkItemSchema },
});

/** Schemas of the registry's responses. */
export const registrySchemas: Record<string, JsonSchema> = {
  Pause: exactObject({ scope: { type: 'string', description: '"*" (whole service) or a data type' }, actor: { type: 'string' }, reason: { type: 'string' }, paused_at: dateTime }),
  WorkerStatus: exactObject({
    instance: { type: 'string' }, last_seen: dateTime, age_seconds: { type: 'number' },
    bandwidth_limit_bytes_per_sec: nullable('integer'),
    copies: {
      type: 'array',
      items: exactObject({
        data_id: { type: 'string' }, data_type: { type: 'string' }, size_bytes: { type: 'integer' }, copied_bytes: { type: 'integer' },
        started_at: dateTime, rate_bytes_per_sec: { type: 'integer' }, eta_seconds: nullable('number'),
      }),
    },
  }),
  Product: exactObject(productProperties),
  ProductWithEvents: exactObject({
    ...productProperties,
    manifest: {
      type: ['array', 'null'],
      description: 'Per-file manifest of a published directory (path, size, sha256); null otherwise',
      items: exactObject({ path: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' } }),
    },
    events: { type: 'array', items: ref('ProductEvent') },
  }),
  ProductEvent: exactObject({
    id: { type: 'integer' },
    event: { type: 'string' },
    attempt: { type: 'integer' },
    from_status: nullable('string'),
    to_status: { type: 'string' },
    error_class: nullable('string'),
    error: nullable('string'),
    bytes: nullable('integer'),
    duration_ms: nullable('integer'),
    worker: nullable('string'),
    actor: nullable('string', { description: 'Token name of the operator who asked (operator verbs)' }),
    reason: nullable('string'),
    detail: { type: ['object', 'null'], description: 'What an operator verb replaced or chose (amend: old and new values)' },
    created_at: dateTime,
  }),
};

const registerErrors = {
  '400': errorResponse('Invalid body or stage path', [
    'validation_error', 'malformed_json', 'invalid_stage_path', 'path_outside_stage_root', 'reserved_path',
  ]),
  '409': errorResponse('data_id registered with different content, or the destination is taken or nests with another', [
    'data_id_conflict', 'destination_conflict',
  ]),
  '413': errorResponse('Body larger than 1 MiB', ['payload_too_large']),
  '415': errorResponse('Body is not JSON', ['unsupported_media_type']),
  '422': errorResponse('Unknown type, or a source that is missing, empty, unreadable or not a regular file or directory', [
    'unknown_data_type', 'source_missing', 'source_empty', 'source_not_regular', 'source_unreadable',
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
        '200': jsonResponse('One page', exactObject({
          products: { type: 'array', items: ref('Product') },
          next_cursor: nullable('string', { description: 'Pass as cursor for the next page; null on the last' }),
        })),
        '400': errorResponse('Invalid query', ['validation_error', 'invalid_cursor']),
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
        '202': jsonResponse('Queued', exactObject({
          data_id: { type: 'string' },
          status: { enum: ['staging', 'publishing'] },
          enqueue: { enum: ['added', 'already_queued', 'retried', 'deferred'], description: 'deferred: Redis unreachable; the reconciler enqueues it' },
        })),
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
        '200': jsonResponse('Figures', exactObject({
          total_published: { type: 'integer' },
          total_staging: { type: 'integer' },
          total_publishing: { type: 'integer' },
          failed_publishes: { type: 'integer', description: 'Every failed product, whatever its attempts' },
          max_attempts_exceeded: { type: 'integer', description: 'Failed products whose attempts reached PUBLISH_MAX_ATTEMPTS' },
          total_discarded: { type: 'integer' },
          total_retracted: { type: 'integer' },
          total_held: { type: 'integer' },
          success_rate_percent: nullable('number', { description: 'Share of products whose latest outcome in the last 24 h was a publish; null (not enough data) below SUCCESS_RATE_MIN_PRODUCTS' }),
          success_rate: exactObject({
            window_hours: { type: 'integer' }, products: { type: 'integer' }, succeeded: { type: 'integer' },
            min_products: { type: 'integer' }, enough_data: { type: 'boolean' },
          }),
          recent_failures_24h: { type: 'integer', description: 'Products whose latest outcome in the last 24 h was a failure' },
          oldest_waiting_age_seconds: { type: 'integer', description: 'Held products and paused types left out' },
          oldest_failed_age_seconds: { type: 'integer' },
          paused: { type: 'array', items: ref('Pause') },
          timestamp: dateTime,
        })),
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
        '200': jsonResponse('Failed products', exactObject({
          count: { type: 'integer', description: 'Number of entries in failed_publishes' },
          failed_publishes: {
            type: 'array',
            items: exactObject({
              data_id: { type: 'string' },
              data_type: { type: 'string' },
              stage_path: { type: 'string' },
              publish_attempts: { type: 'integer' },
              publish_error: nullable('string', { description: 'The whole message' }),
              error_class: nullable('string'),
              failed_at: dateTime,
              created_at: dateTime,
            }),
          },
        })),
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
        '200': jsonResponse('Drift report', {
          type: 'object',
          required: ['healthy', 'generated_at', 'counts'],
          properties: {
            healthy: { type: 'boolean' },
            generated_at: dateTime,
            counts: { type: 'object', additionalProperties: { type: 'integer' } },
            orphan_temporaries: { type: 'array', items: { type: 'object' } },
            published_missing: { type: 'array', items: { type: 'object' } },
            published_size_mismatch: { type: 'array', items: { type: 'object' } },
            files_without_row: { type: 'array', items: { type: 'object' } },
            jobs_without_row: { type: 'array', items: { type: 'object' } },
          },
        }),
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
        '200': jsonResponse('Outcome', exactObject({
          retried: { type: 'boolean' },
          published: { type: 'boolean' },
          status: { enum: ['queued', 'publishing', 'published', 'failed'], description: 'queued: in staging, waiting for the worker' },
          published_path: nullable('string'),
        })),
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
        '200': jsonResponse('What was retried', {
          ...bulkResultSchema,
          required: [...(bulkResultSchema.required as string[]), 'total_attempted', 'successful', 'failed'],
          properties: {
            ...(bulkResultSchema.properties as Record<string, JsonSchema>),
            total_attempted: { type: 'integer' },
            successful: { type: 'integer' },
            failed: { type: 'integer' },
            results: { type: 'array', items: { ...bulkItemSchema, properties: { ...(bulkItemSchema.properties as Record<string, JsonSchema>), success: { type: 'boolean' } } } },
          },
        }),
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
        '200': jsonResponse('Status', exactObject({
          queue: exactObject({ waiting: { type: 'integer' }, active: { type: 'integer' }, delayed: { type: 'integer' }, failed: { type: 'integer' } }),
          worker_heartbeat: {
            anyOf: [exactObject({ instance: { type: 'string' }, at: dateTime, age_seconds: { type: 'number' } }), { type: 'null' }],
            description: 'The newest heartbeat across worker instances; null when no heartbeat key exists',
          },
          workers: { type: 'array', items: ref('WorkerStatus'), description: 'Every worker with a live heartbeat, oldest heartbeat first' },
          paused: { type: 'array', items: ref('Pause') },
          timestamp: dateTime,
        })),
        ...GUARDED_ERRORS,
      },
    },
  },
};
