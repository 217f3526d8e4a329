import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../support/free-port';
import { copyCheckout } from './checkout-copy';
import { note, run, type Engine } from './docker-engine';
import type { Owner } from './stage-products';
import { StackProject } from './stack-project';

/** Everything one run of the stack test made, and where. */
export interface StackWorkspace {
  project: StackProject;
  /** Temporary directory holding the copy, the data roots, backups and textfile metrics. */
  base: string;
  stageDir: string;
  productsDir: string;
  backupDir: string;
  textfileDir: string;
  owner: Owner;
  bindAddress: string;
  httpPort: number;
  httpsPort: number;
  domain: string;
}

// Variables that would point the deploy scripts somewhere else than the stack under test
// (backup.sh picks its native mode when a database is named in the environment).
const INHERITED_TO_DROP = /^(NODE_ENV|DATABASE_URL|REDIS_URL|PG[A-Z]+|COMPOSE_[A-Z_]+|FERRY_[A-Z_]+|BACKUP_[A-Z_]+|TEST_[A-Z_]+)$/;

/**
 * A clean copy of the checkout with data roots in a temporary directory, loopback-only random
 * ports, and the settings an operator would put in .env.production for a small test host. The
 * settings are exported: deploy/up.sh writes exported values of the example's keys into the new
 * .env.production on its first run, and compose lets the environment win over the file.
 */
export async function createWorkspace(repoRoot: string, engine: Engine): Promise<StackWorkspace> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-stack-'));
  const dir = path.join(base, 'ferry');
  const files = copyCheckout(repoRoot, dir);
  const owner: Owner = { uid: Number(process.env.FERRY_STACK_UID ?? 1000), gid: Number(process.env.FERRY_STACK_GID ?? 1000) };
  const stageDir = path.join(base, 'data', 'stage');
  const productsDir = path.join(base, 'data', 'products');
  const backupDir = path.join(base, 'backups');
  const textfileDir = path.join(base, 'textfile');
  for (const d of [stageDir, productsDir, backupDir, textfileDir]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0) {
    fs.chownSync(stageDir, owner.uid, owner.gid);
    fs.chownSync(productsDir, owner.uid, owner.gid);
  }
  const bindAddress = '127.0.0.1';
  const [httpPort, httpsPort] = [await freePort(bindAddress), await freePort(bindAddress)];
  const name = `ferrylab-stack-${crypto.randomBytes(3).toString('hex')}`;
  const domain = 'ferry-stack.test';

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(engine.env)) if (!INHERITED_TO_DROP.test(k)) env[k] = v;
  Object.assign(env, {
    COMPOSE_PROJECT_NAME: name,
    FERRY_DOMAIN: domain,
    FERRY_BIND_ADDRESS: bindAddress,
    FERRY_HTTP_PORT: String(httpPort),
    FERRY_HTTPS_PORT: String(httpsPort),
    FERRY_STAGE_DIR: stageDir,
    FERRY_PRODUCTS_DIR: productsDir,
    FERRY_UID: String(owner.uid),
    FERRY_GID: String(owner.gid),
    // Its own tag, so the test never replaces an operator's ferry:local; kept as build cache.
    FERRY_IMAGE_TAG: 'stack-test',
    PREFLIGHT_MIN_STAGE_FREE_GB: '1',
    PREFLIGHT_MIN_PRODUCTS_FREE_GB: '1',
    PREFLIGHT_MIN_STATE_FREE_GB: '1',
    // A short lease and reconcile period so a killed worker's product is taken over in seconds.
    PUBLISH_LEASE_SECONDS: '15',
    RECONCILE_INTERVAL_SECONDS: '5',
    PUBLISH_FREE_SPACE_MARGIN_MB: '64',
    BACKUP_DIR: backupDir,
    NODE_EXPORTER_TEXTFILE_DIR: textfileDir,
    // Small machines: the API's own per-IP limit stays above what the test sends.
    API_WORKERS: '1',
  });
  // The ports monitoring publishes on 127.0.0.1: free ones, never the well-known 9090/9093/3000.
  env.PROMETHEUS_PORT = String(await freePort(bindAddress));
  env.ALERTMANAGER_PORT = String(await freePort(bindAddress));
  env.GRAFANA_PORT = String(await freePort(bindAddress));

  note(`copied ${files} files of the checkout to ${dir}; project ${name}; nginx on ${bindAddress}:${httpPort}/${httpsPort}`);
  if (engine.labScript) {
    // Stand-in images tagged under the names the copied compose files use; npm's CA in the Node stand-in.
    await run('sh', [path.join(dir, 'test', 'stack', 'prepare-lab.sh')], { env: { ...env, FERRY_LAB: engine.labScript }, timeoutMs: 600_000 });
  }
  return {
    project: new StackProject(engine, dir, env, name),
    base,
    stageDir,
    productsDir,
    backupDir,
    textfileDir,
    owner,
    bindAddress,
    httpPort,
    httpsPort,
    domain,
  };
}

/** Adds (or replaces) KEY=value lines in the deployment's .env.production, as an operator edits it. */
export function setEnvFileValues(dir: string, values: Record<string, string>): void {
  const file = path.join(dir, '.env.production');
  let text = fs.readFileSync(file, 'utf8');
  for (const [k, v] of Object.entries(values)) {
    const line = `${k}=${v}`;
    const re = new RegExp(`^${k}=.*$`, 'm');
    text = re.test(text) ? text.replace(re, line) : `${text.replace(/\n?$/, '\n')}${line}\n`;
  }
  fs.writeFileSync(file, text);
}
