import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadCompose, readEnvFile, REPO_ROOT, serviceEnv } from './compose';
import { freePort } from './free-port';

/** The real nginx/ configuration, rendered for a native run on loopback. */
export interface NginxUnderTest {
  dir: string;
  ports: { http: number; https: number; status: number };
  /** The template variables used (the compose nginx service's environment, with test overrides). */
  env: Record<string, string>;
  /** Runs `nginx -t`; returns its exit status and output. */
  configTest(): { status: number | null; output: string };
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The JSON access-log lines written so far. */
  accessLog(): Record<string, unknown>[];
}

/** Renders a template the way the nginx image's entrypoint does: envsubst of the defined variables only. */
export function renderTemplate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => (name in env ? env[name]! : whole));
}

/** The nginx service's environment from docker-compose.prod.yml, interpolated with the example env file. */
export function composeNginxEnv(): Record<string, string> {
  const doc = loadCompose(path.join(REPO_ROOT, 'docker-compose.prod.yml'));
  const example = { ...readEnvFile(path.join(REPO_ROOT, '.env.production.example')), FERRY_DOMAIN: 'localhost', FERRY_PUBLIC_URL: 'https://localhost' };
  return serviceEnv(doc.services.nginx!, example);
}

/**
 * Copies nginx/ into a temporary prefix and renders it. Production paths that need root or a
 * container (pid file, temp directories, stdout log) are swapped for files in the prefix; every
 * other line is the production configuration. `overrides` replace template variables.
 */
export async function prepareNginx(opts: { cert: string; key: string; apiUpstream?: string; overrides?: Record<string, string> }): Promise<NginxUnderTest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-nginx-'));
  // Workers run as nobody when the test runs as root: they must reach the temp directories.
  fs.chmodSync(dir, 0o755);
  const src = path.join(REPO_ROOT, 'nginx');
  fs.cpSync(path.join(src, 'snippets'), path.join(dir, 'snippets'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'conf.d'));
  fs.mkdirSync(path.join(dir, 'acme', '.well-known', 'acme-challenge'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'cache'));
  // Writable paths of the container (tmpfs under /tmp, /run or /var/cache/nginx) move into the
  // prefix; the access log goes to a file the tests read. Comments are left as they are.
  const main = fs.readFileSync(path.join(src, 'nginx.conf'), 'utf8').split('\n').map((line) => {
    if (line.trim().startsWith('#')) return line;
    return line
      .replace(/(?<=[\s"'])\/(tmp|run|var\/cache\/nginx)\//g, `${dir}/`)
      .replace(/access_log \/dev\/stdout /, `access_log ${dir}/access.log `);
  }).join('\n');
  if (!main.includes(`pid ${dir}/`)) throw new Error('nginx.conf: the pid file is no longer under /tmp, /run or /var/cache/nginx: update the test harness');
  if (!main.includes(`include ${dir}/conf.d/*.conf`) && !/include conf\.d\/\*\.conf/.test(main)) throw new Error('nginx.conf: cannot find where the rendered templates are included');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), main);

  const ports = { http: 0, https: 0, status: 0 };
  const env: Record<string, string> = {};
  /**
   * Chooses free ports and renders the templates (the only files that name them) for them. A port
   * found free can be taken by another process (a test, a container's published port) before nginx
   * binds it, so start() renders again with new ports when that happens; `ports` and `env` are
   * updated in place.
   */
  const render = async () => {
    Object.assign(ports, { http: await freePort(), https: await freePort(), status: await freePort() });
    for (const k of Object.keys(env)) delete env[k];
    Object.assign(env, {
      ...composeNginxEnv(),
      NGINX_HTTP_PORT: String(ports.http),
      NGINX_HTTPS_PORT: String(ports.https),
      NGINX_STATUS_PORT: String(ports.status),
      NGINX_SERVER_NAME: 'localhost',
      FERRY_PUBLIC_URL: `https://localhost:${ports.https}`,
      NGINX_SSL_CERTIFICATE: opts.cert,
      NGINX_SSL_CERTIFICATE_KEY: opts.key,
      NGINX_ACME_WEBROOT: path.join(dir, 'acme'),
      // An address, not a name: nothing needs resolving on loopback.
      NGINX_API_UPSTREAM: opts.apiUpstream ?? '127.0.0.1:9',
      NGINX_RESOLVER: '127.0.0.1',
      ...opts.overrides,
    });
    // The rendered templates go where nginx.conf includes them from (NGINX_ENVSUBST_OUTPUT_DIR).
    for (const t of fs.readdirSync(path.join(src, 'templates')).filter((n) => n.endsWith('.template'))) {
      const rendered = renderTemplate(fs.readFileSync(path.join(src, 'templates', t), 'utf8'), env);
      const left = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.exec(rendered);
      if (left) throw new Error(`${t}: ${left[0]} is not set in the compose nginx environment`);
      fs.writeFileSync(path.join(dir, 'conf.d', t.replace(/\.template$/, '')), rendered);
    }
  };
  await render();

  let child: ChildProcess | undefined;
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf')];
  /**
   * Starts nginx and waits until its status port answers: undefined once it does, else why not,
   * with everything nginx wrote to stderr (read to the end after it exited, or was stopped after
   * 10 s without an answer).
   */
  const launch = async (): Promise<string | undefined> => {
    const started = spawn('nginx', [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    let stderr = '';
    started.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<void>((resolve) => started.once('close', () => resolve()));
    const deadline = Date.now() + 10000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        // A time limit: whatever else holds the port may accept and never answer.
        http.get({ host: '127.0.0.1', port: ports.status, path: '/healthz', timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode === 200); })
          .on('timeout', function (this: http.ClientRequest) { this.destroy(); })
          .on('error', () => resolve(false));
      });
      if (up) return undefined;
      if (started.exitCode !== null || started.signalCode !== null) {
        await closed;
        return `exited (${started.exitCode ?? started.signalCode}): ${stderr}`;
      }
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        await closed;
        return `no answer on its status port within 10 s: ${stderr}`;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    dir,
    ports,
    env,
    configTest() {
      const r = spawnSync('nginx', ['-t', ...args], { encoding: 'utf8' });
      return { status: r.status, output: r.stdout + r.stderr };
    },
    async start() {
      for (let attempt = 1; ; attempt++) {
        const failure = await launch();
        if (failure === undefined) return;
        // A port taken by another process between choosing it and nginx binding it: choose again.
        if (attempt < 3 && /Address already in use/.test(failure)) {
          await render();
          continue;
        }
        throw new Error(`nginx did not start: ${failure}`);
      }
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child!.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    accessLog() {
      const file = path.join(dir, 'access.log');
      if (!fs.existsSync(file)) return [];
      return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}
