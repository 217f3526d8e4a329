import { AppError } from './app-error';

/** Too many requests for one token or client address in the window (429); Retry-After says when to come back. */
export class RateLimitedError extends AppError {
  constructor(message: string) {
    super(429, 'rate_limited', message);
  }
}
