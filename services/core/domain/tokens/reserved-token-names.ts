import { BOOTSTRAP_TOKEN_NAME } from './verify-token';

/**
 * Names the API gives identities of its own: the bootstrap admin (FERRY_ADMIN_TOKEN), and the
 * words a log line or rate-limit bucket could use for a caller without a token. A token named like
 * one of them would share its name in logs and make the audit trail ambiguous.
 */
const RESERVED_NAMES = new Set([BOOTSTRAP_TOKEN_NAME, 'anonymous', 'system']);
/** Prefix of the api's own service names (ferry-api, ferry-worker …). */
const RESERVED_PREFIX = 'ferry-';

/** True when a token may not be called `name` (case-insensitive). */
export function isReservedTokenName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_NAMES.has(lower) || lower.startsWith(RESERVED_PREFIX);
}
