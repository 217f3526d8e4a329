import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError, NotFoundError } from '../../core/errors';
import { isConnectionError } from '../../core/errors/is-connection-error';
import { PublishError } from '../../core/errors/publish-error';
import type { Logger } from '../../core/logging/create-logger';
import './request-types';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** body-parser failures by their `type`: status and stable code. */
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'the request body is larger than 1 MiB: send a smaller body' },
  'entity.parse.failed': { status: 400, code: 'malformed_json', message: 'the request body is not valid JSON: fix its syntax' },
  'charset.unsupported': { status: 415, code: 'unsupported_media_type', message: 'the body charset is not supported: send UTF-8 JSON' },
  'encoding.unsupported': { status: 415, code: 'unsupported_media_type', message: 'the body Content-Encoding is not supported: send identity or gzip' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'the client aborted the request body' },
  'request.size.invalid': { status: 400, code: 'invalid_body_size', message: 'the body length does not match Content-Length' },
};

/** `field: problem` for each zod issue, so the client learns which field to fix. */
function describeZod(err: ZodError): { message: string; fields: { field: string; message: string }[] } {
  const fields = err.issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: [...at, k].join('.'), message: 'is not a known field' }));
    return [{ field: at.join('.') || '(body)', message: i.message }];
  });
  return { message: fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields };
}

/** The status and body an error maps to: the one mapping, also used by the console to render its error pages. */
export function toResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status: err.status, body };
  }
  if (err instanceof ZodError) {
    const { message, fields } = describeZod(err);
    return { status: 400, body: { error: { code: 'validation_error', message, details: { fields } } } };
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && BODY_ERRORS[type]) {
    const b = BODY_ERRORS[type];
    return { status: b.status, body: { error: { code: b.code, message: b.message } } };
  }
  // A publish failure is the worker's business; should one reach a request, it is a server fault.
  if (err instanceof PublishError) return { status: 500, body: { error: { code: err.errorClass, message: err.message } } };
  if (isConnectionError(err)) {
    return {
      status: 503,
      body: { error: { code: 'dependency_unavailable', message: 'PostgreSQL or Redis cannot be reached right now; retry later' } },
    };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error; the server log has the details' } } };
}

/**
 * The one place errors become HTTP: AppError → its status and code; zod → 400 validation_error
 * naming each field; body-parser → 413/415/400; unreachable PostgreSQL/Redis → 503; anything else →
 * 500 without a stack. 4xx log at info, 5xx at error with the stack; the request id is in the header.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const { status, body } = toResponse(err);
    const log = req.log ?? logger;
    if (status >= 500) log.error('request failed', { status, code: body.error.code, err });
    else log.info('request refused', { status, code: body.error.code, message: body.error.message });
    res.status(status).json(body);
  };
}

/** Unknown routes: 404 not_found in the same JSON shape as every other error. */
export function notFound(): RequestHandler {
  return (req, _res, next) => {
    next(new NotFoundError(`no route ${req.method} ${req.path}: see GET /api/openapi.json for the API`));
  };
}

/**
 * Refuses a request body that is not JSON (415) before any parser runs. A request without a body
 * (POST /publish, retry), or with an empty one, passes.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    // type-is counts `Content-Length: 0` as a body; an empty body has no type to check.
    const empty = req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined;
    if (!empty && req.is(['application/json', 'application/*+json']) === false) {
      next(new AppError(415, 'unsupported_media_type', `the body must be JSON: send Content-Type: application/json (got ${req.headers['content-type'] ?? 'none'})`));
      return;
    }
    next();
  };
}
