import { AppError } from './app-error';

/** A dependency (Postgres, Redis) cannot be reached right now; the client may retry (503). */
export class UnavailableError extends AppError {
  constructor(code: string, message: string) {
    super(503, code, message);
  }
}
