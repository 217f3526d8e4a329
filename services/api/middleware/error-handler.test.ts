import express from 'express';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { z } from 'zod';
import { ConflictError, ValidationError } from '../../core/errors';
import { createLogger } from '../../core/logging/create-logger';
import { errorHandler, notFound, requireJsonBody } from './error-handler';

/** A bare app whose routes throw the given errors, behind the real body parsing and error handler. */
function appThrowing() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  const app = express();
  app.use(requireJsonBody(), express.json({ limit: 1024 * 1024 }));
  app.get('/conflict', () => {
    throw new ConflictError('data_id_conflict', 'taken', { fields: ['stage_path'] });
  });
  app.post('/zod', (req) => {
    z.strictObject({ name: z.string(), size: z.number().int() }).parse(req.body);
  });
  app.get('/boom', () => {
    throw new Error('secret internals at /srv/app.js');
  });
  app.get('/pg-down', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  app.get('/pg-not-queryable', async () => {
    throw new Error('Client has encountered a connection error and is not queryable');
  });
  app.get('/pg-timeout', async () => {
    throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
  });
  app.get('/pg-deadlock', async () => {
    throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
  });
  app.get('/redis-down', async () => {
    throw Object.assign(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' });
  });
  app.get('/library-4xx', () => {
    throw Object.assign(new Error('Bad Request'), { status: 400, expose: true });
  });
  app.get('/abs-path', () => {
    throw new ValidationError('source_unreadable', '/srv/ferry/stage/img/a.fits cannot be read (/srv/ferry/products/img/a.fits exists)', 422, { path: '/srv/ferry/stage/img/a.fits' });
  });
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  app.use(notFound());
  const roots = [
    { name: 'STAGE_ROOT', path: '/srv/ferry/stage' },
    { name: 'PRODUCTS_ROOT', path: '/srv/ferry/products' },
  ];
  app.use(errorHandler(createLogger({ service: 'test', level: 'debug', stream }), roots));
  return { app, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('errorHandler', () => {
  it('maps an AppError to its status and code, with details', async () => {
    const res = await request(appThrowing().app).get('/conflict');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: 'data_id_conflict', message: 'taken', details: { fields: ['stage_path'] } } });
  });

  it('maps a zod error to 400 validation_error naming every field', async () => {
    const res = await request(appThrowing().app).post('/zod').send({ size: 1.5, extra: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toMatch(/^name: .*; size: .*; extra: is not a known field$/);
    expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(['name', 'size', 'extra']);
  });

  it('answers a generic 500 without message or stack, and logs the stack', async () => {
    const { app, logs } = appThrowing();
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal error; the server log has the details' } });
    expect(res.text).not.toMatch(/secret|\.js|at /);
    const line = logs().find((l) => l.level === 'error');
    expect((line?.err as { stack?: string }).stack).toContain('secret internals');
  });

  it('answers 503 database_unavailable when PostgreSQL cannot be reached', async () => {
    const res = await request(appThrowing().app).get('/pg-down');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'database_unavailable', message: 'PostgreSQL cannot be reached right now; retry later' } });
  });

  it('answers 503 database_unavailable for a pooled client whose connection PostgreSQL already ended', async () => {
    const res = await request(appThrowing().app).get('/pg-not-queryable');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: { error: { code: 'database_unavailable', message: 'PostgreSQL cannot be reached right now; retry later' } },
    });
  });

  it('answers 503 database_timeout when PostgreSQL cancels a statement for running too long', async () => {
    const res = await request(appThrowing().app).get('/pg-timeout');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: { error: { code: 'database_timeout', message: 'PostgreSQL did not answer in time; retry later' } },
    });
  });

  it('answers 503 database_busy when PostgreSQL rolls a transaction back to break a deadlock', async () => {
    const res = await request(appThrowing().app).get('/pg-deadlock');
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 503, code: 'database_busy' });
  });

  it('answers 503 dependency_unavailable when Redis cannot be reached', async () => {
    const res = await request(appThrowing().app).get('/redis-down');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: { error: { code: 'dependency_unavailable', message: 'Redis cannot be reached right now; retry later' } },
    });
  });

  it('answers a library client error (http-errors with a 4xx status) with that status and bad_request, never 500', async () => {
    const res = await request(appThrowing().app).get('/library-4xx');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message: 'the request is malformed: check its headers and body' } },
    });
  });

  it('names paths under a data root relative to it in the body, and keeps the full path in the log', async () => {
    const { app, logs } = appThrowing();
    const res = await request(app).get('/abs-path');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 422,
      body: { error: { code: 'source_unreadable', message: 'STAGE_ROOT/img/a.fits cannot be read (PRODUCTS_ROOT/img/a.fits exists)', details: { path: 'STAGE_ROOT/img/a.fits' } } },
    });
    expect(JSON.stringify(logs())).toContain('/srv/ferry/stage/img/a.fits');
  });

  it('answers 404 not_found for an unknown route in the same JSON shape', async () => {
    const res = await request(appThrowing().app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.stringContaining('GET /nowhere') } });
  });

  it('answers 400 malformed_json, 415 for other media types, 413 over 1 MiB', async () => {
    const { app } = appThrowing();
    const bad = await request(app).post('/echo').set('Content-Type', 'application/json').send('{oops');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'malformed_json']);
    const form = await request(app).post('/echo').type('form').send({ a: '1' });
    expect([form.status, form.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const br = await request(app).post('/echo').set('Content-Type', 'application/json').set('Content-Encoding', 'br').send('{}');
    expect([br.status, br.body.error.code]).toEqual([415, 'unsupported_content_encoding']);
    const big = await request(app).post('/echo').send({ x: 'y'.repeat(1024 * 1024) });
    expect([big.status, big.body.error.code]).toEqual([413, 'payload_too_large']);
  });

  it('accepts a JSON body, and a POST without any body', async () => {
    const { app } = appThrowing();
    expect((await request(app).post('/echo').send({ a: 1 })).body).toEqual({ a: 1 });
    expect((await request(app).post('/echo')).status).toBe(200);
  });
});
