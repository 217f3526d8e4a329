import type { FailedListResponse, FailedProductResponse, PublishStatusResponse, RetryAllResponse, RetryResponse } from '../../api/schemas/monitoring.responses';
import type { BulkItemResponse, BulkResultResponse, RetractResponse } from '../../api/schemas/lifecycle.responses';
import type { HealthSummaryResponse } from '../../api/schemas/health.responses';
import type { LineageResponse, SearchPageResponse } from '../../api/schemas/lineage.responses';
import type { ManifestEntryResponse, ProductEventResponse, ProductPageResponse, ProductResponse, ProductWithEventsResponse } from '../../api/schemas/products.responses';
import type { TokenResponse } from '../../api/schemas/token.responses';

// The registry's response shapes are declared once, as zod schemas beside the api's request
// schemas; ferryctl uses the types inferred from them.

/** GET /api/monitoring/publish/status; recent_failures_1h only from an API that reports it (see collect-health.ts). */
export type PublishStatus = PublishStatusResponse & { recent_failures_1h?: number };

/** One entry of GET /api/monitoring/publish/failed. */
export type FailedProduct = FailedProductResponse;

/** GET /api/monitoring/publish/failed. */
export type FailedList = FailedListResponse;

/** POST /api/monitoring/publish/retry/{data_id}. */
export type RetryResult = RetryResponse;

/** POST /api/monitoring/publish/retry-all. */
export type RetryAllResult = RetryAllResponse;

/** One product's line in a bulk verb's answer (retry-all's lines add success). */
export type BulkItem = BulkItemResponse & { success?: boolean; error?: string };

/** A bulk verb's answer (discard-all; retry-all adds the totals). */
export type BulkResult = BulkResultResponse;

/** POST /api/products/{data_id}/retract: what happened and what was derived from it. */
export type RetractResult = RetractResponse;

/** One file of a directory product's manifest. */
export type ManifestEntry = ManifestEntryResponse;

/** One entry of a product's event log. */
export type ProductEvent = ProductEventResponse;

/** A product as GET /api/products lists it; GET /api/products/{data_id} adds its manifest and events. */
export type Product = ProductResponse & Partial<Pick<ProductWithEventsResponse, 'manifest' | 'events' | 'superseded_by'>>;

/** GET /api/products: one keyset page. */
export type ProductPage = ProductPageResponse;

/** Query filters of GET /api/products. */
export interface ProductFilters {
  status?: string;
  data_type?: string;
  created_since?: string;
  created_until?: string;
  cursor?: string;
  limit?: number;
}

/** A token as GET /api/tokens lists it (never its secret). */
export type TokenInfo = TokenResponse;

/** GET /health (unauthenticated). */
export type HealthReport = HealthSummaryResponse;

/** GET /api/products/{data_id}/ancestors and …/descendants. */
export type LineageReply = LineageResponse;

/** GET /api/search/products: one page. */
export type SearchReply = SearchPageResponse;
