import type { Pool } from 'pg';
import type { Config } from '../../config';

/** What the publishing operations need: the pool and the relevant configuration. */
export interface PublishingDeps {
  pool: Pool;
  config: Pick<Config, 'paths' | 'publish' | 'instance'>;
}

/** A lease this worker holds on one product row. */
export interface Lease {
  productId: number;
  dataId: string;
  token: string;
  attempt: number;
}
