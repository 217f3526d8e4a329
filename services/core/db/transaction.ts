import type { Pool, PoolClient } from 'pg';

/** Runs fn inside one short transaction; rolls back on any error and always releases the client. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // pg-pool removes its error listener from a checked-out client: without one, PostgreSQL ending
  // the connection mid-transaction (a restart, 57P01) emits an unhandled 'error' and kills the process.
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.removeListener('error', onError);
    // A broken client is destroyed rather than handed to the next caller.
    client.release(broken);
  }
}
