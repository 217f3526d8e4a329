import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { BackupError } from './backup-error';
import { nativeTarget, type PgTarget } from './pg-target';

/**
 * The environment the ops scripts run with: the process environment, plus BACKUP_*, UPGRADE_*,
 * POSTGRES_*, FERRY_IMAGE_TAG and NODE_EXPORTER_TEXTFILE_DIR from the deployment's env file where the environment does not
 * set them. Only those keys: the
 * file's DATABASE_URL names the database as the containers see it, not as this host does.
 */
export function opsEnvironment(env: NodeJS.ProcessEnv, envFile: string): NodeJS.ProcessEnv {
  if (!fs.existsSync(envFile)) return { ...env };
  const fromFile = parseEnv(fs.readFileSync(envFile, 'utf8'));
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(fromFile)) {
    if (/^(BACKUP_|UPGRADE_|POSTGRES_|FERRY_IMAGE_TAG$|NODE_EXPORTER_TEXTFILE_DIR$)/.test(k) && merged[k] === undefined) merged[k] = v;
  }
  return merged;
}

/**
 * Moves into the deployment directory (FERRY_ROOT, else the current one) and reads its settings:
 * `envFile` (relative to where the operator stood, resolved before the move), else its
 * .env.production, under the process environment (opsEnvironment).
 */
export function enterDeployment(env: NodeJS.ProcessEnv, envFile: string | undefined): { root: string; env: NodeJS.ProcessEnv } {
  const file = envFile === undefined ? undefined : path.resolve(envFile);
  const root = path.resolve(env.FERRY_ROOT ?? process.cwd());
  if (!fs.existsSync(root)) throw new BackupError(`deployment directory ${root} (FERRY_ROOT) does not exist`);
  process.chdir(root);
  return { root, env: opsEnvironment(env, file ?? path.join(root, '.env.production')) };
}

/** Default compose invocation, run from the deployment directory. */
export const DEFAULT_COMPOSE = 'docker compose -f docker-compose.prod.yml --env-file .env.production';

/** native when a database is named in the environment, else the compose stack. */
export function pgTargetFrom(env: NodeJS.ProcessEnv, mode: string | undefined): PgTarget {
  const chosen = mode ?? env.BACKUP_MODE ?? (env.DATABASE_URL || env.PGDATABASE || env.PGHOST ? 'native' : 'compose');
  if (chosen === 'native') {
    if (!env.DATABASE_URL && !env.PGDATABASE && !env.PGHOST) throw new BackupError('native mode needs DATABASE_URL (or PGHOST/PGDATABASE...)');
    return nativeTarget(env);
  }
  if (chosen !== 'compose') throw new BackupError(`unknown mode ${chosen}: use native or compose`);
  const compose = (env.FERRY_COMPOSE ?? DEFAULT_COMPOSE).split(/\s+/).filter(Boolean);
  return {
    mode: 'compose',
    env: { ...env },
    compose,
    service: env.BACKUP_POSTGRES_SERVICE ?? 'postgres',
    database: env.POSTGRES_DB ?? env.POSTGRES_USER ?? 'ferry',
  };
}

/** A non-negative integer from the environment, or the default; a bad value is an error, not a silent default. */
export function intFrom(env: NodeJS.ProcessEnv, name: string, def: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new BackupError(`${name}=${raw}: must be an integer from 0 to ${max}`);
  return n;
}

/** Resolves a path from the environment against the deployment directory. */
export function pathFrom(root: string, value: string): string {
  return path.resolve(root, value);
}

/** node-exporter's textfile directory in docker-compose.monitoring.yml when none is configured. */
export const DEFAULT_TEXTFILE_DIR = '/var/lib/node_exporter/textfile_collector';

/**
 * Where the backup metrics go: BACKUP_TEXTFILE_DIR, else NODE_EXPORTER_TEXTFILE_DIR (the monitoring
 * stack's setting), else the default directory if it exists; undefined means no metrics.
 */
export function textfileDirFrom(env: NodeJS.ProcessEnv, root: string): string | undefined {
  const configured = env.BACKUP_TEXTFILE_DIR || env.NODE_EXPORTER_TEXTFILE_DIR;
  if (configured) return pathFrom(root, configured);
  return fs.existsSync(DEFAULT_TEXTFILE_DIR) ? DEFAULT_TEXTFILE_DIR : undefined;
}
