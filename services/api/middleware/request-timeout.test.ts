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
  app.get('/fast', (_req, res) => {
    res.json({ ok: true });
  });

  it('answers 503 request_timeout when the handler is too slow', async () => {
    const res = await request(app).get('/slow');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'request_timeout', message: expect.stringContaining('0.1 s') } });
  });

  it('leaves a prompt answer alone', async () => {
    const res = await request(app).get('/fast');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});
