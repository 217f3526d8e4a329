/** Redis key of one worker's heartbeat: `<REDIS_PREFIX>:worker:heartbeat:<FERRY_INSTANCE>`, value unix ms, with a TTL. */
export function workerHeartbeatKey(prefix: string, instance: string): string {
  return `${prefix}:worker:heartbeat:${instance}`;
}

/** SCAN pattern matching every worker's heartbeat key under a prefix. */
export function workerHeartbeatPattern(prefix: string): string {
  return `${prefix}:worker:heartbeat:*`;
}

/** Redis key of what one worker is doing (JSON: copies running with bytes, rate, ETA; bandwidth limit), refreshed with its heartbeat. */
export function workerInfoKey(prefix: string, instance: string): string {
  return `${prefix}:worker:info:${instance}`;
}
