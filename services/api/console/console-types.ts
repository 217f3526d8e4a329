import type { ConsoleIdentity } from '../../core/domain/console/resolve-session';

// What the console's middleware adds to a request.
declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in operator, once the session cookie resolved to a live session. */
    consoleUser?: ConsoleIdentity;
  }
}

export {};
