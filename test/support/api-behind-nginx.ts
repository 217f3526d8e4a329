import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './compose';
import { createTestDatabase, type TestDatabase } from './database';
import { createTestRoots, type TestRoots } from './dirs';
import { testEnv } from './env';
import { prepareNginx, type NginxUnderTest } from './nginx';
import { startNodeProcess, type NodeProcess } from './node-process';
import { freePort } from './free-port';
import { deleteRedisPrefix, testRedisPrefix } from './redis';
import { TEST_ADMIN_TOKEN } from './tokens';

/** The real api process behind the real nginx configuration, on a database, Redis prefix and roots of its own. */
export interface ApiBehindNginx {
  /** The certificate and key deploy/generate-cert.sh made for localhost. */
  cert: string;
  key: string;
  db: TestDatabase;
  roots: TestRoots;
  api: NodeProcess;
  nginx: NginxUnderTest;
  /** The environment of another Ferry process on the same database, prefix and roots. */
  env(extra: Record<string, string>): NodeJS.ProcessEnv;
  /** Stops nginx and the api, then removes the prefix, database, roots and certificate. */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/api/main.js` (one process, TEST_ADMIN_TOKEN, info logs; `apiEnv` adds or
 * overrides) and, once it listens, nginx in front of it with a certificate from deploy/generate-cert.sh.
 */
export async function startApiBehindNginx(apiEnv: Record<string, string> = {}): Promise<ApiBehindNginx> {
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-nginx-cert-'));
  const cert = path.join(certDir, 'fullchain.pem');
  const key = path.join(certDir, 'privkey.pem');
  execFileSync('sh', [path.join(REPO_ROOT, 'deploy/generate-cert.sh'), '--domain', 'localhost', '--cert', cert, '--key', key]);
  const [db, roots] = await Promise.all([createTestDatabase(), createTestRoots()]);
  const redisPrefix = testRedisPrefix();
  const env = (extra: Record<string, string>) =>
    testEnv({ databaseUrl: db.url, redisPrefix, stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, extra);
  const port = await freePort();
  const api = startNodeProcess('api/main.js', env({
    FERRY_ADMIN_TOKEN: TEST_ADMIN_TOKEN, API_WORKERS: '1', PORT: String(port), METRICS_PORT: '0', LOG_LEVEL: 'info', ...apiEnv,
  }));
  let nginx: NginxUnderTest | undefined;
  const stop = async () => {
    await nginx?.stop();
    api.kill();
    await api.exited;
    await deleteRedisPrefix(redisPrefix);
    await db.drop();
    await roots.cleanup();
    fs.rmSync(certDir, { recursive: true, force: true });
  };
  try {
    await api.waitForLog((l) => l.message === 'api listening', 60000);
    nginx = await prepareNginx({ cert, key, apiUpstream: `127.0.0.1:${port}` });
    await nginx.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { cert, key, db, roots, api, nginx, env, stop };
}
