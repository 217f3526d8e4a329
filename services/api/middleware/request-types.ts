import type { Logger } from '../../core/logging/create-logger';
import type { TokenIdentity } from '../../core/domain/tokens/verify-token';

// What Ferry's middleware adds to every request.
declare module 'express-serve-static-core' {
  interface Request {
    /** Request id: X-Request-Id when valid, otherwise a fresh UUID; echoed in the response. */
    id: string;
    /** Child logger carrying request_id. */
    log: Logger;
    /** The caller, once authenticate() accepted a bearer token. */
    auth?: TokenIdentity;
    /** Why there is no caller: no Authorization header, or a token that is unknown or revoked. */
    authFailure?: 'missing' | 'invalid';
  }
}

export {};
