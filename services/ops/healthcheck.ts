import fs from 'node:fs';
import http from 'node:http';
import type { Config } from '../core/config';
import { runOneShot, type OneShotContext } from '../core/lifecycle/run-process';

/**
 * `node dist/ops/healthcheck.js api [live|ready]` or `… worker`: the container health check.
 * Exits 0 when healthy and 1 otherwise, printing one line why. Needs nothing but node.
 *   api    GET http://127.0.0.1:$PORT/health/ready (or /health/live) with a short timeout.
 *   worker the heartbeat file (WORKER_HEARTBEAT_FILE, unix ms) is younger than WORKER_HEARTBEAT_STALE_SECONDS.
 */
const TIMEOUT_MS = 3000;

function probeApi(config: Config, which: 'live' | 'ready'): Promise<string | undefined> {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  return new Promise((resolve) => {
    const req = http.get({ host, port: config.http.port, path: `/health/${which}`, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `api /health/${which} answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve(`api /health/${which}: ${err.message}`));
  });
}

/** Reads the heartbeat: the file's contents (unix ms), falling back to its mtime. */
export function heartbeatAgeMs(file: string, now = Date.now()): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const value = Number(text);
    const at = Number.isFinite(value) && value > 0 ? value : fs.statSync(file).mtimeMs;
    return now - at;
  } catch {
    return undefined;
  }
}

function checkWorker(config: Config): string | undefined {
  const age = heartbeatAgeMs(config.heartbeat.file);
  if (age === undefined) return `worker heartbeat ${config.heartbeat.file} is missing`;
  if (age > config.heartbeat.staleSeconds * 1000) {
    return `worker heartbeat is stale: ${Math.round(age / 1000)} s old (limit ${config.heartbeat.staleSeconds} s)`;
  }
  return undefined;
}

async function main(argv: string[], ctx: OneShotContext): Promise<number> {
  const [target, which = 'ready'] = argv;
  if ((target !== 'api' && target !== 'worker') || (which !== 'ready' && which !== 'live')) {
    process.stderr.write('usage: healthcheck.js api [ready|live] | worker\n');
    return 1;
  }
  const config = ctx.config('healthcheck');
  const problem = target === 'api' ? await probeApi(config, which) : checkWorker(config);
  if (problem) {
    process.stderr.write(`unhealthy: ${problem}\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  void runOneShot({ name: 'healthcheck', main: (ctx) => main(process.argv.slice(2), ctx) });
}
