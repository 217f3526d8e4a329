import { AppError } from './app-error';

/** A named resource does not exist (404). */
export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(404, code, message);
  }
}
