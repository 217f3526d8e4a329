import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A Docker-compatible engine the stack test can drive with the docker CLI and Compose v2. */
export interface Engine {
  /** Environment for every docker / compose / deploy script call (DOCKER_HOST, DOCKER_BUILDKIT). */
  env: NodeJS.ProcessEnv;
  /** "Docker Engine 27.3.1" or "Podman Engine 4.3.1 (the container lab)". */
  description: string;
  composeVersion: string;
  /** The lab's lab.sh when the engine is the container lab (../shared/lab/compose). */
  labScript?: string;
}

export type EngineProbe = { ok: true; engine: Engine } | { ok: false; reason: string };

/** The lab's API socket (../shared/lab/compose/lab.sh env). */
const LAB_SOCKET = '/run/podman/podman.sock';

/**
 * Finds the engine: DOCKER_HOST when set, else the container lab beside the checkout when it is
 * running, else the docker CLI's default context. Synchronous because jest decides at load time
 * whether the suite runs.
 */
export function probeEngine(repoRoot: string): EngineProbe {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const lab = path.resolve(repoRoot, '..', 'shared', 'lab', 'compose', 'lab.sh');
  const labExists = fs.existsSync(lab);
  if (!env.DOCKER_HOST && labExists && fs.existsSync(LAB_SOCKET)) env.DOCKER_HOST = `unix://${LAB_SOCKET}`;
  const usesLab = labExists && env.DOCKER_HOST === `unix://${LAB_SOCKET}`;
  let server: { Version?: string; Components?: { Name?: string; Version?: string }[] } | undefined;
  try {
    const out = execFileSync('docker', ['version', '--format', '{{json .Server}}'], { env, timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    server = JSON.parse(out.toString()) ?? undefined;
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return { ok: false, reason: `no Docker engine reachable (DOCKER_HOST=${env.DOCKER_HOST ?? 'unset'}): ${detail.split('\n')[0]}` };
  }
  if (!server) return { ok: false, reason: `the docker CLI reached no server (DOCKER_HOST=${env.DOCKER_HOST ?? 'unset'})` };
  const podman = (server.Components ?? []).find((c) => /podman/i.test(c.Name ?? ''));
  // BuildKit cannot start under podman; the classic builder builds Ferry's Dockerfile everywhere.
  if (podman) env.DOCKER_BUILDKIT = '0';
  let composeVersion: string;
  try {
    composeVersion = execFileSync('docker', ['compose', 'version', '--short'], { env, timeout: 20_000 }).toString().trim();
  } catch {
    return { ok: false, reason: 'the engine answers but `docker compose` (Compose v2) is missing' };
  }
  if (!/^v?2\./.test(composeVersion)) return { ok: false, reason: `Compose v2 is needed; found ${composeVersion}` };
  const description = podman ? `Podman Engine ${podman.Version}${usesLab ? ' (the container lab)' : ''}` : `Docker Engine ${server.Version}`;
  return { ok: true, engine: { env, description, composeVersion, labScript: usesLab ? lab : undefined } };
}

/** What a finished command printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Echo the command's output to the test's stderr as it runs (long steps such as up.sh). */
  echo?: boolean;
  /** Resolve with a non-zero code instead of rejecting. */
  allowFailure?: boolean;
}

/** Runs a command without a shell; rejects with its output when it fails or times out. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (opts.echo) process.stderr.write(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (opts.echo) process.stderr.write(b);
    });
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if ((code === 0 && !timedOut) || (opts.allowFailure && !timedOut)) return resolve(result);
      const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : `exited ${code ?? signal}`;
      const tail = (result.stderr || result.stdout).trim().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} ${why}\n${tail}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Prints a progress line straight to the terminal (jest buffers console.log until the end). */
export function note(message: string): void {
  process.stderr.write(`[stack] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}
