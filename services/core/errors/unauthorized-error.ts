import { AppError } from './app-error';

/** No bearer token, or one that is unknown or revoked (401). */
export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}
