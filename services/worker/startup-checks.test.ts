import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import IORedis from 'ioredis';
import { createLogger } from '../core/logging/create-logger';
import { PUBLISH_JOB } from '../core/jobs/publish-queue';
import { freePort } from '../../test/support/free-port';
import { assertProcessorsFor, checkRedisEvictionPolicy } from './startup-checks';

describe('worker start-up checks', () => {
  it('fails start-up when a job name has no processor', () => {
    expect(() => assertProcessorsFor([PUBLISH_JOB, 'mystery-job'], { [PUBLISH_JOB]: () => undefined })).toThrow(/mystery-job has no processor/);
    expect(() => assertProcessorsFor([PUBLISH_JOB], { [PUBLISH_JOB]: () => undefined })).not.toThrow();
  });

  describe('against a private Redis that may evict keys', () => {
    let server: ChildProcess;
    let redis: IORedis;
    beforeAll(async () => {
      const port = await freePort();
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
      redis = new IORedis(port, '127.0.0.1', { maxRetriesPerRequest: 3, retryStrategy: (n) => (n > 50 ? null : 100) });
      await redis.ping();
    });
    afterAll(async () => {
      redis.disconnect();
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    });

    it('logs an error when maxmemory-policy is not noeviction', async () => {
      const lines: string[] = [];
      const stream = new PassThrough();
      stream.on('data', (d: Buffer) => lines.push(d.toString()));
      const policy = await checkRedisEvictionPolicy(redis, createLogger({ service: 't', level: 'info', stream }));
      expect(policy).toBe('allkeys-lru');
      await new Promise((r) => setImmediate(r));
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toEqual([expect.objectContaining({ level: 'error', maxmemory_policy: 'allkeys-lru', message: expect.stringMatching(/noeviction/) })]);
    });
  });
});
