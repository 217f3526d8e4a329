import { AppError } from './app-error';

/** A valid token without the scope the route needs (403); the message names the scope. */
export class ForbiddenError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(403, 'forbidden', message, details);
  }
}
