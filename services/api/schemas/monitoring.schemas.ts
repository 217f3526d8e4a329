import { z } from 'zod';
import { MAX_RETRY_WAIT_SECONDS } from '../../core/domain/monitoring/retry-product';
import { queryInt } from './common.schemas';

/** Caps on the monitoring lists: the failed list, and one retry-all call. */
export const MAX_FAILED_LIMIT = 500;
export const MAX_RETRY_ALL_LIMIT = 100;

/** GET /api/monitoring/publish/failed query. */
export const listFailedQuerySchema = z.strictObject({
  max_attempts: queryInt(0, 1_000_000).optional(),
  limit: queryInt(1, MAX_FAILED_LIMIT).default(50),
});

/** POST /api/monitoring/publish/retry-all query. */
export const retryAllQuerySchema = z.strictObject({
  max_attempts: queryInt(0, 1_000_000).optional(),
  limit: queryInt(1, MAX_RETRY_ALL_LIMIT).default(10),
});

/** POST /api/monitoring/publish/retry/{data_id} query. */
export const retryQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(MAX_RETRY_WAIT_SECONDS).optional(),
});

/** GET /api/monitoring/publish/reconcile query: the most entries listed per kind of drift. */
export const reconcileQuerySchema = z.strictObject({
  limit: queryInt(1, 10000).default(1000),
});
