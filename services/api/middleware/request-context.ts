import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../core/logging/create-logger';
import { routePattern } from './route-pattern';
import './request-types';

/** A client-supplied request id is kept only when it is short and made of safe characters. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The request id to use: the incoming X-Request-Id when valid, otherwise a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && VALID_REQUEST_ID.test(v) ? v : crypto.randomUUID();
}

/**
 * First middleware: assigns the request id (echoed as X-Request-Id), a child logger, and writes
 * one access-log line per request when the response finishes (or the client goes away). The line
 * holds method, route pattern, status, duration, token name and request id — never the
 * Authorization header or the token.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    req.id = requestIdFrom(req.headers['x-request-id']);
    req.log = logger.child({ request_id: req.id });
    res.setHeader('X-Request-Id', req.id);
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const status = res.writableFinished ? res.statusCode : 499; // 499: client closed before the reply ended
      const level = status >= 500 ? 'warn' : 'info';
      // winston formats and serialises a line before its transport drops it for its level: build
      // and hand over the line only when it will be written.
      if (!req.log.isLevelEnabled(level)) return;
      const line = {
        method: req.method,
        route: routePattern(req),
        status,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        token_name: req.auth?.name ?? null,
        ip: req.ip,
      };
      req.log.log(level, 'request', line);
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
