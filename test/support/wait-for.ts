/** What a truthy result can be: the "not yet" values taken out. */
type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls fn every `everyMs` until it returns a truthy value, and returns that value. fn may be
 * synchronous or async. A throw counts as "not yet" (a process still starting refuses
 * connections); when the time is up, the error names what was awaited and the last error seen.
 */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs: number, what = 'condition', everyMs = 50): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last error: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
