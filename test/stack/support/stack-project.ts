import fs from 'node:fs';
import path from 'node:path';
import { note, run, type Engine, type RunOptions, type RunResult } from './docker-engine';

/** A container of the project as `docker ps --format json` lists it. */
export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  state: string;
  status: string;
}

/** The parts of `docker inspect` the test reads. */
export interface ContainerDetails {
  Id: string;
  Name: string;
  Created: string;
  Config: { User?: string; Labels?: Record<string, string> };
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string; Health?: { Status: string } };
  HostConfig: { ReadonlyRootfs?: boolean; Privileged?: boolean; NetworkMode?: string; PidMode?: string; IpcMode?: string; PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null; Networks?: Record<string, unknown> };
  Mounts?: { Type: string; Source: string; Destination: string; RW: boolean }[];
}

/** The files and options deploy/up.sh and deploy/monitoring.sh pass to compose. */
export const PROD_FILE = 'docker-compose.prod.yml';
export const MONITORING_FILE = 'docker-compose.monitoring.yml';

/** One compose project of the stack test, run from the clean copy of the checkout. */
export class StackProject {
  constructor(
    readonly engine: Engine,
    /** The clean copy of the checkout (the deployment directory). */
    readonly dir: string,
    /** Engine env + COMPOSE_PROJECT_NAME + the test's settings; every command gets it. */
    readonly env: NodeJS.ProcessEnv,
    readonly name: string,
  ) {}

  /** `-f` / `--env-file` / `--profile` arguments: the main stack, plus monitoring when asked. */
  composeFiles(opts: { monitoring?: boolean; extra?: string[] } = {}): string[] {
    const args = ['-f', PROD_FILE];
    if (opts.monitoring) args.push('-f', MONITORING_FILE, '--profile', 'monitoring');
    for (const f of opts.extra ?? []) args.push('-f', f);
    if (fs.existsSync(path.join(this.dir, '.env.production'))) args.push('--env-file', '.env.production');
    return args;
  }

  /** docker compose … in the deployment directory. */
  compose(args: string[], opts: RunOptions & { monitoring?: boolean; extra?: string[] } = {}): Promise<RunResult> {
    const { monitoring, extra, ...runOpts } = opts;
    return run('docker', ['compose', ...this.composeFiles({ monitoring, extra }), ...args], { cwd: this.dir, env: this.env, timeoutMs: 120_000, ...runOpts });
  }

  /** Any docker CLI command against the engine. */
  docker(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('docker', args, { cwd: this.dir, env: this.env, timeoutMs: 120_000, ...opts });
  }

  /** A script of the deployment directory (deploy/up.sh …), run as an operator would. */
  script(rel: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(path.join(this.dir, rel), args, { cwd: this.dir, env: this.env, timeoutMs: 600_000, ...opts });
  }

  /** Every container of the project, running or not (by compose's label, so no file is needed). */
  async containers(): Promise<ProjectContainer[]> {
    const { stdout } = await this.docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${this.name}`, '--format', '{{json .}}']);
    const ids = stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { ID: string }).ID);
    if (ids.length === 0) return [];
    return (await this.inspect(ids)).map((d) => ({
      id: d.Id,
      name: d.Name.replace(/^\//, ''),
      service: d.Config.Labels?.['com.docker.compose.service'] ?? '?',
      state: d.State.Status,
      status: d.State.Health?.Status ?? d.State.Status,
    }));
  }

  async inspect(ids: string[]): Promise<ContainerDetails[]> {
    const { stdout } = await this.docker(['inspect', ...ids]);
    return JSON.parse(stdout) as ContainerDetails[];
  }

  /** docker inspect of one container. */
  async inspectOne(id: string): Promise<ContainerDetails> {
    const [d] = await this.inspect([id]);
    if (!d) throw new Error(`no container ${id}`);
    return d;
  }

  /** The running container of a service (the first, when scaled). */
  async container(service: string): Promise<ProjectContainer> {
    const all = (await this.containers()).filter((c) => c.service === service);
    const c = all.find((x) => x.state === 'running') ?? all[0];
    if (!c) throw new Error(`no container for service ${service} in project ${this.name}`);
    return c;
  }

  /** docker exec into a service's container. */
  async exec(service: string, cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    const c = await this.container(service);
    return this.docker(['exec', c.id, ...cmd], opts);
  }

  /** Saves every container's logs, inspect output and `docker compose ps` under outDir. */
  async saveDiagnostics(outDir: string): Promise<void> {
    fs.mkdirSync(outDir, { recursive: true });
    const ps = await this.compose(['ps', '-a'], { monitoring: fs.existsSync(path.join(this.dir, MONITORING_FILE)), allowFailure: true }).catch((e: Error) => ({ stdout: '', stderr: e.message }));
    fs.writeFileSync(path.join(outDir, 'compose-ps.txt'), `${ps.stdout}${ps.stderr}`);
    const containers = await this.containers().catch(() => []);
    for (const c of containers) {
      const logs = await this.docker(['logs', '--timestamps', c.id], { allowFailure: true }).catch((e: Error) => ({ stdout: '', stderr: e.message }));
      fs.writeFileSync(path.join(outDir, `${c.name}.log`), `${logs.stdout}${logs.stderr}`);
      const details = await this.docker(['inspect', c.id], { allowFailure: true }).catch((e: Error) => ({ stdout: e.message }));
      fs.writeFileSync(path.join(outDir, `${c.name}.inspect.json`), details.stdout);
    }
    note(`diagnostics (docker compose ps, every container's logs and inspect) saved in ${outDir}`);
  }

  /** Removes everything the project made: containers, networks and volumes (down -v), then leftovers by label. */
  async destroy(): Promise<void> {
    const monitoring = fs.existsSync(path.join(this.dir, MONITORING_FILE));
    await this.compose(['down', '-v', '--remove-orphans', '--timeout', '10'], { monitoring, allowFailure: true, timeoutMs: 180_000 }).catch(() => undefined);
    const label = `label=com.docker.compose.project=${this.name}`;
    const left = await this.docker(['ps', '-aq', '--filter', label], { allowFailure: true });
    const ids = left.stdout.split('\n').filter(Boolean);
    if (ids.length) await this.docker(['rm', '-f', '-v', ...ids], { allowFailure: true });
    for (const kind of ['network', 'volume']) {
      const ls = await this.docker([kind, 'ls', '-q', '--filter', label], { allowFailure: true });
      const names = ls.stdout.split('\n').filter(Boolean);
      if (names.length) await this.docker([kind, 'rm', ...names], { allowFailure: true });
    }
  }
}

/** Polls fn until it returns a value other than undefined, or fails with the last reason. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `; last error: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
