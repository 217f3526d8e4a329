import { isConnectionError } from '../errors/is-connection-error';
import { PublishError, type PublishErrorClass } from '../errors/publish-error';

const ERRNO_CLASSES: Record<string, PublishErrorClass> = {
  ENOSPC: 'no_space',
  EDQUOT: 'quota_exceeded',
  EIO: 'io_error',
  EBUSY: 'busy',
  EAGAIN: 'busy',
  ETXTBSY: 'busy',
  EMFILE: 'busy',
  ENFILE: 'busy',
  ETIMEDOUT: 'io_error',
  ESTALE: 'io_error',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  EROFS: 'permission_denied',
};

/**
 * Turns anything a publish attempt threw into a classified PublishError. File-system errno codes
 * map to their class; connection-level database errors are transient; anything unknown is
 * `internal` (transient) so a bug never fails a product without a retry budget.
 */
export function classifyError(err: unknown): PublishError {
  if (err instanceof PublishError) return err;
  const e = err as NodeJS.ErrnoException & { severity?: string };
  const message = e instanceof Error ? e.message : String(err);
  const cls = e?.code ? ERRNO_CLASSES[e.code] : undefined;
  if (cls) return new PublishError(cls, message, { cause: err });
  if (e?.severity || isConnectionError(err)) {
    return new PublishError('database_unavailable', message, { cause: err });
  }
  return new PublishError('internal', message, { cause: err });
}
