import { Pool, types } from 'pg';
import type { Config } from '../config';

// BIGINT (int8) columns hold sizes and counts that stay far below 2^53: return them as numbers.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

/** Something that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<Pool, 'query'>;

/** Creates the process's PostgreSQL pool. A pool error (a dropped idle client) must not crash the process. */
export function createPool(config: Pick<Config, 'database' | 'role' | 'instance'>, onError?: (err: Error) => void): Pool {
  const pool = new Pool({
    connectionString: config.database.url,
    max: config.database.poolMax,
    statement_timeout: config.database.statementTimeoutMs,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    application_name: `ferry-${config.role}`,
  });
  pool.on('error', (err) => onError?.(err));
  return pool;
}
