import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './repo-root';

export { REPO_ROOT };

/** A compose service as parsed (merge keys resolved); only the fields the tests read are typed. */
export type ComposeService = Record<string, unknown> & {
  image?: string;
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean };
};
export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, Record<string, unknown> | null>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
  [key: string]: unknown;
}

/** Parses a compose file the way Compose does: YAML 1.2 with `<<` merge keys honoured. */
export function loadCompose(file: string): ComposeFile {
  return parse(fs.readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;
}

/** Reads KEY=VALUE lines of an env file (comments and blank lines skipped). */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $VAR, and $$ for a literal $. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    if (bare) return env[bare] ?? '';
    const v = env[name!];
    if (!op) return v ?? '';
    const unsetOrEmpty = v === undefined || (op.startsWith(':') && v === '');
    if (op.endsWith('-')) return unsetOrEmpty ? interpolate(arg ?? '', env) : v!;
    if (unsetOrEmpty) throw new Error(`required variable ${name} is missing: ${arg}`);
    return v!;
  });
}

/** Every variable name a compose file interpolates (not the $$-escaped container-side ones). */
export function interpolatedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
  return [...names].sort();
}

/**
 * A service's environment as a map, interpolated with env. A name with no value takes env's value,
 * and is left out when env does not set it, as Compose does.
 */
export function serviceEnv(service: ComposeService, env: Record<string, string | undefined>): Record<string, string> {
  const raw = service.environment ?? {};
  const entries: [string, string | undefined][] = Array.isArray(raw)
    ? raw.map((s) => (s.includes('=') ? [s.split('=')[0]!, s.slice(s.indexOf('=') + 1)] : [s, undefined]))
    : Object.entries(raw).map(([k, v]) => [k, v === null || v === undefined ? undefined : String(v)]);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (v !== undefined) out[k] = interpolate(v, env);
    else if (env[k] !== undefined) out[k] = env[k];
  }
  return out;
}

/**
 * A service's health-check command as Compose hands it to the container: for CMD-SHELL the shell
 * string, for CMD the argument vector ($$ turned into $ in both).
 */
export function healthcheckCommand(service: ComposeService): { shell: string } | { argv: string[] } {
  const test = service.healthcheck?.test;
  if (!test) throw new Error('no healthcheck');
  const unescape = (s: string) => s.replace(/\$\$/g, '$');
  if (typeof test === 'string') return { shell: unescape(test) };
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return { shell: unescape(rest.join(' ')) };
  if (kind === 'CMD') return { argv: rest.map(unescape) };
  throw new Error(`unsupported healthcheck test ${String(kind)}`);
}

/**
 * The Node flags production starts the api with: the compose api service's command between `node`
 * and the script. The bench starts its api with them, so it measures the heap production runs.
 */
export function apiNodeFlags(file = path.join(REPO_ROOT, 'docker-compose.prod.yml')): string[] {
  const command = loadCompose(file).services.api?.command;
  if (!Array.isArray(command) || command[0] !== 'node' || command.at(-1) !== 'dist/api/main.js') {
    throw new Error(`${file}: the api command is not ["node", ...flags, "dist/api/main.js"]`);
  }
  return (command as string[]).slice(1, -1);
}
