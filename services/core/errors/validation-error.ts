import { AppError } from './app-error';

/** The input is well-formed but not acceptable (400 by default, 422 where the request cannot be processed). */
export class ValidationError extends AppError {
  constructor(code: string, message: string, status = 400, details?: Record<string, unknown>) {
    super(status, code, message, details);
  }
}
