import type { Pool } from 'pg';
import { listTempEntries, removeLeaseTempDir } from '../../publish/temp-area';
import { heldLeaseTokens } from '../../repositories/lease.repository';

const LEASE_TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Entries of PRODUCTS_ROOT/.ferry-tmp that no product row holds as its lease. The listing comes
 * first: a lease is committed before its directory is made, so a directory listed here whose
 * token is not held afterwards belongs to a lease that is gone.
 */
export async function findOrphanTemporaries(pool: Pool, productsRoot: string): Promise<string[]> {
  const names = await listTempEntries(productsRoot);
  const held = await heldLeaseTokens(pool, names.filter((n) => LEASE_TOKEN.test(n)));
  return names.filter((n) => !held.has(n));
}

/**
 * Removes the temporary copies of leases that no longer exist: a worker killed between a
 * reclaim's commit and its clean-up leaves one behind. Returns the names removed. Only lease
 * directories are touched; anything else found there is left for an operator (the drift report).
 */
export async function removeOrphanTemporaries(pool: Pool, productsRoot: string): Promise<string[]> {
  const orphans = (await findOrphanTemporaries(pool, productsRoot)).filter((n) => LEASE_TOKEN.test(n));
  for (const name of orphans) await removeLeaseTempDir(productsRoot, name);
  return orphans;
}
