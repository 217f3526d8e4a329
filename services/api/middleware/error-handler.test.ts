import express from 'express';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { z } from 'zod';
import { ConflictError } from '../../core/errors';
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
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  app.use(notFound());
  app.use(errorHandler(createLogger({ service: 'test', level: 'debug', stream })));
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

  it('answers 503 dependency_unavailable when PostgreSQL or Redis cannot be reached', async () => {
    const res = await request(appThrowing().app).get('/pg-down');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'dependency_unavailable', message: expect.any(String) } });
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
    const big = await request(app).post('/echo').send({ x: 'y'.repeat(1024 * 1024) });
    expect([big.status, big.body.error.code]).toEqual([413, 'payload_too_large']);
  });

  it('accepts a JSON body, and a POST without any body', async () => {
    const { app } = appThrowing();
    expect((await request(app).post('/echo').send({ a: 1 })).body).toEqual({ a: 1 });
    expect((await request(app).post('/echo')).status).toBe(200);
  });
});
