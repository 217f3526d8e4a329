// Connection-level failures of PostgreSQL (SQLSTATE class 08, admin shutdown, starting up, too many
// connections) and Redis, by code and, where the client sets none, by message.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300']);
const CONNECTION_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Connection is closed|connect ECONNREFUSED|Reached the max retries per request limit|Stream isn't writeable/i;

/**
 * True for an error that means PostgreSQL or Redis cannot be reached right now, so the same call
 * may succeed later: the api answers 503, the worker retries the attempt (database_unavailable).
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return err.name === 'MaxRetriesPerRequestError' || CONNECTION_MESSAGES.test(err.message);
}
