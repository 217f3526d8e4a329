/**
 * Delay before retry number `attempt` (1-based count of attempts made): exponential from `baseSeconds`,
 * capped at `maxSeconds`, with "equal jitter" (half fixed, half random) so retries of many products
 * that failed together (a full disk) spread out instead of returning in one wave.
 */
export function backoffMs(attempt: number, baseSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  const exp = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1)) * 1000;
  return Math.round(exp / 2 + (exp / 2) * random());
}
