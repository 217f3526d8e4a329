/**
 * The values of every promise, once all have settled; rejects with the first failure, but only
 * after the others have settled too, so that nothing still uses a buffer or a descriptor when the
 * caller goes on to reuse or close it.
 */
export async function allSettledOrThrow<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}
