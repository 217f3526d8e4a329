import { AppError } from './app-error';

/** The request clashes with what the registry already holds (409). */
export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
  }
}
