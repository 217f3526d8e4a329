import { z } from 'zod';
import { MAX_RETRY_WAIT_SECONDS } from '../../core/domain/monitoring/retry-product';
import { queryInt } from './common.schemas';
import { selectionQueryShape } from './lifecycle.schemas';

/** Cap on the failed list. */
export const MAX_FAILED_LIMIT = 500;

/** GET /api/monitoring/publish/failed query: the bulk verbs' filter language and a limit. */
export const listFailedQuerySchema = z.strictObject({
  ...selectionQueryShape,
  limit: queryInt(1, MAX_FAILED_LIMIT).default(50),
});

/** POST /api/monitoring/publish/retry/{data_id} query. */
export const retryQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(MAX_RETRY_WAIT_SECONDS).optional(),
});

/** GET /api/monitoring/publish/reconcile query: the most entries listed per kind of drift. */
export const reconcileQuerySchema = z.strictObject({
  limit: queryInt(1, 10000).default(1000),
});
