import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { requestTimeout } from './request-timeout';

describe('requestTimeout', () => {
  const app = express();
  app.use(requestTimeout(100));
  app.get('/slow', (_req, res) => {
    setTimeout(() => {
      if (!res.headersSent) res.json({ late: true });
    }, 300);
  });
  app.post('/upload', express.json(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/fast', (_req, res) => {
    res.json({ ok: true });
  });

  it('answers 503 request_timeout when the handler is too slow', async () => {
    const res = await request(app).get('/slow');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'request_timeout', message: expect.stringContaining('0.1 s') } });
  });

  it('answers 408 body_timeout, a client error, when the body has not arrived by the deadline', async () => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'Content-Type': 'application/json', 'Content-Length': '50' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
        });
        req.on('error', reject);
        req.write('{"a":');
      });
      expect(answer).toEqual({ status: 408, body: { error: { code: 'body_timeout', message: 'the request body did not arrive within 0.1 s: send it faster' } } });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('leaves a prompt answer alone', async () => {
    const res = await request(app).get('/fast');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});
