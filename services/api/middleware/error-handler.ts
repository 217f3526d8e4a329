import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError, NotFoundError } from '../../core/errors';
import { isConnectionError } from '../../core/errors/is-connection-error';
import { PublishError } from '../../core/errors/publish-error';
import { rootRelative, type NamedRoot } from '../../core/errors/root-relative';
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
  'encoding.unsupported': { status: 415, code: 'unsupported_content_encoding', message: 'the body Content-Encoding is not supported: send identity or gzip' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'the client aborted the request body' },
  'request.size.invalid': { status: 400, code: 'invalid_body_size', message: 'the body length does not match Content-Length' },
};

// What only ioredis (the rate limiter, the queue, the status endpoint) raises; every other outage is PostgreSQL's.
const REDIS_MESSAGES = /Connection is closed|Reached the max retries per request limit|Stream isn't writeable/i;
/** PostgreSQL cancelled a statement (statement_timeout): the database is too slow right now. */
const QUERY_CANCELED = '57014';
/** PostgreSQL aborted a transaction to break a deadlock, or could not serialise it: nothing was written, and a retry succeeds. */
const TRANSACTION_ROLLED_BACK = new Set(['40P01', '40001']);

/** Which dependency an unavailability error came from: Redis by ioredis' own errors, otherwise PostgreSQL. */
function unavailableDependency(err: Error): 'redis' | 'postgres' {
  return err.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(err.message) ? 'redis' : 'postgres';
}

/** The 4xx status a library error (http-errors style: body-parser, router) carries, if any. */
function clientErrorStatus(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  return status !== undefined && status >= 400 && status < 500 ? status : undefined;
}

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
  if (err instanceof URIError) {
    return { status: 400, body: { error: { code: 'malformed_path', message: 'the request path has a malformed percent-encoding: encode it with encodeURIComponent' } } };
  }
  const clientStatus = clientErrorStatus(err);
  if (clientStatus === 400 && /^Z_/.test(String((err as { code?: unknown }).code))) {
    return { status: 400, body: { error: { code: 'malformed_body', message: 'the gzip request body cannot be decompressed: send it again' } } };
  }
  if (clientStatus !== undefined) {
    return { status: clientStatus, body: { error: { code: 'bad_request', message: 'the request is malformed: check its headers and body' } } };
  }
  if (err instanceof Error && (err as { code?: unknown }).code === QUERY_CANCELED) {
    return { status: 503, body: { error: { code: 'database_timeout', message: 'PostgreSQL did not answer in time; retry later' } } };
  }
  if (err instanceof Error && TRANSACTION_ROLLED_BACK.has(String((err as { code?: unknown }).code))) {
    return { status: 503, body: { error: { code: 'database_busy', message: 'PostgreSQL rolled the request back under contention; nothing was written: retry' } } };
  }
  // A publish failure is the worker's business; should one reach a request, it is a server fault.
  if (err instanceof PublishError) return { status: 500, body: { error: { code: err.errorClass, message: err.message } } };
  if (isConnectionError(err)) {
    return unavailableDependency(err as Error) === 'redis'
      ? { status: 503, body: { error: { code: 'dependency_unavailable', message: 'Redis cannot be reached right now; retry later' } } }
      : { status: 503, body: { error: { code: 'database_unavailable', message: 'PostgreSQL cannot be reached right now; retry later' } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error; the server log has the details' } } };
}

/** Every string in a JSON value with data-root paths made relative (details may name paths too). */
function relativeDeep(value: unknown, roots: readonly NamedRoot[]): unknown {
  if (typeof value === 'string') return rootRelative(value, roots);
  if (Array.isArray(value)) return value.map((v) => relativeDeep(v, roots));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: relativeDeep(v, roots), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * The one place errors become HTTP: AppError → its status and code; zod → 400 validation_error
 * naming each field; body-parser and router → 400/413/415 with a code; PostgreSQL unreachable →
 * 503 database_unavailable (database_timeout when a statement ran out of time, database_busy when
 * a transaction was rolled back to break a deadlock), Redis → 503
 * dependency_unavailable; anything else → 500 without a stack. Paths under the data roots are
 * answered relative to their root (`roots`); the log keeps the full text. 4xx log at info, 5xx at
 * error with the stack; the request id is in the header.
 */
export function errorHandler(logger: Logger, roots: readonly NamedRoot[] = []): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const { status, body } = toResponse(err);
    const log = req.log ?? logger;
    if (status >= 500) log.error('request failed', { status, code: body.error.code, err });
    else log.info('request refused', { status, code: body.error.code, message: body.error.message });
    res.status(status).json(roots.length > 0 ? relativeDeep(body, roots) : body);
  };
}

/**
 * Refuses a path whose percent-encoding does not decode (400 malformed_path) before any router
 * tries to decode a parameter from it.
 */
export function rejectMalformedPath(): RequestHandler {
  return (req, _res, next) => {
    if (req.path.includes('%')) {
      try {
        decodeURIComponent(req.path);
      } catch (err) {
        next(err);
        return;
      }
    }
    next();
  };
}

/** Unknown routes: 404 not_found in the same JSON shape as every other error. */
export function notFound(): RequestHandler {
  return (req, _res, next) => {
    next(new NotFoundError(`no route ${req.method} ${req.path}: see GET /api/openapi.json for the API`));
  };
}

/** Content-Encodings a request body may carry; anything else is refused before a decoder runs. */
const ACCEPTED_ENCODINGS = new Set(['identity', 'gzip']);

/**
 * Refuses a request body that is not JSON (415 unsupported_media_type), or that is encoded other
 * than identity or gzip (415 unsupported_content_encoding), before any parser runs. A request
 * without a body (POST /publish, retry), or with an empty one, passes.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && !ACCEPTED_ENCODINGS.has(encoding.trim().toLowerCase())) {
      next(new AppError(415, 'unsupported_content_encoding', 'the body Content-Encoding is not supported: send identity or gzip'));
      return;
    }
    // type-is counts `Content-Length: 0` as a body; an empty body has no type to check.
    const empty = req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined;
    if (!empty && req.is(['application/json', 'application/*+json']) === false) {
      next(new AppError(415, 'unsupported_media_type', `the body must be JSON: send Content-Type: application/json (got ${req.headers['content-type'] ?? 'none'})`));
      return;
    }
    next();
  };
}
