import type { Pool } from 'pg';
import type { Config } from '../../config';

/** What the publishing operations need: the pool and the relevant configuration. */
export interface PublishingDeps {
  pool: Pool;
  /** products: the type definitions; absent (older callers, tests) means every type is opaque. */
  config: Pick<Config, 'paths' | 'publish' | 'instance'> & Partial<Pick<Config, 'products'>>;
}

/** A lease this worker holds on one product row. */
export interface Lease {
  productId: number;
  dataId: string;
  token: string;
  attempt: number;
}
