import type { ProductTypeDefinition } from '../product-types/product-type.schema';
import type { ConfigRole, Env } from './env-schema';

/** The validated, nested configuration every process receives from loadConfig(). */
export interface Config {
  readonly role: ConfigRole;
  readonly env: Env['NODE_ENV'];
  readonly instance: string;
  readonly version: string;
  readonly database: { readonly url: string; readonly poolMax: number; readonly statementTimeoutMs: number };
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly paths: { readonly stageRoot: string; readonly productsRoot: string; readonly requireMarker: boolean };
  readonly products: {
    readonly types: readonly string[];
    /** Each allowed type's definition (docs/product-types.md); opaque ones without PRODUCT_TYPES_CONFIG. */
    readonly definitions: Readonly<Record<string, ProductTypeDefinition>>;
    /** Most products one batch registration takes, and most single registrations written in one transaction (REGISTER_BATCH_MAX). */
    readonly batchMax: number;
  };
  readonly publish: {
    readonly mode: 'move' | 'copy';
    readonly maxAttempts: number;
    readonly concurrency: number;
    /** Products of at most this size are published in groups (0 = never); larger ones one by one. */
    readonly groupMaxBytes: number;
    /** Most products one group claims. */
    readonly groupSize: number;
    readonly leaseSeconds: number;
    readonly backoffBaseSeconds: number;
    readonly backoffMaxSeconds: number;
    readonly freeSpaceMarginBytes: number;
    /** Files of at least this many bytes are written around the page cache (PUBLISH_DIRECT_IO_MIN_MB); 0 = never. */
    readonly directMinBytes: number;
    readonly reconcileIntervalSeconds: number;
    /** Bandwidth shared by all copies of a worker, bytes per second; 0 = unlimited (a run-time setting overrides it). */
    readonly maxBytesPerSec: number;
    readonly controlRefreshSeconds: number;
    /** Fewest products with an outcome in the window for a success rate. */
    readonly successRateMinProducts: number;
    /** Mode bits dropped from every published file and directory (PUBLISH_MODE_DROP_BITS). */
    readonly dropModeBits: number;
    /** Test-only pause folder (PUBLISH_TEST_HOOK_DIR); undefined in production. */
    readonly testHookDir: string | undefined;
  };
  readonly heartbeat: { readonly file: string; readonly intervalSeconds: number; readonly staleSeconds: number };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly workers: number;
    readonly trustProxy: string;
    readonly requestTimeoutMs: number;
    readonly rateLimit: { readonly windowSeconds: number; readonly perIp: number; readonly perToken: number };
  };
  readonly metrics: { readonly host: string; readonly port: number };
  readonly shutdown: { readonly graceMs: number };
  readonly auth: { readonly adminToken: string | undefined };
  readonly console: {
    readonly sessionMs: number;
    readonly signIn: { readonly perWindow: number; readonly windowSeconds: number };
    /** STAGE_ROOT and PRODUCTS_ROOT as the operator's host names them (the bind-mount sources). */
    readonly hostPaths: { readonly stage: string; readonly products: string };
    readonly grafanaUrl: string | undefined;
  };
  readonly log: { readonly level: Env['LOG_LEVEL'] };
}
