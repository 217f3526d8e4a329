import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadCompose, REPO_ROOT } from '../support/compose';

interface Instruction { op: string; args: string; line: number }

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === '' || line.startsWith('#'))) return;
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const [op, ...rest] = buf.split(/\s+/);
      out.push({ op: op!.toUpperCase(), args: rest.join(' '), line: start });
      buf = '';
    }
  });
  return out;
}

/** The instructions of each stage, by stage. */
function stages(ins: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const i of ins) {
    if (i.op === 'FROM') out.push([]);
    out[out.length - 1]?.push(i);
  }
  return out;
}

const text = fs.readFileSync(path.join(REPO_ROOT, 'services/Dockerfile'), 'utf8');
const ins = parseDockerfile(text);
const all = stages(ins);
const final = all[all.length - 1]!;

describe('services/Dockerfile', () => {
  it('pins every Node base image to a full Debian-based Node version (no latest, no Alpine)', () => {
    const froms = ins.filter((i) => i.op === 'FROM' && !/ AS pg-client$/.test(i.args)).map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('takes the PostgreSQL client from the image the compose file runs the server from, into the runtime stage', () => {
    const pgClient = ins.find((i) => i.op === 'FROM' && / AS pg-client$/.test(i.args));
    const server = loadCompose(path.join(REPO_ROOT, 'docker-compose.prod.yml')).services.postgres!.image;
    expect(pgClient?.args.split(/\s+/)[0]).toBe(server);
    expect(String(server)).toMatch(/-bookworm$/); // the runtime's glibc serves the copied binaries
    expect(final.some((i) => i.op === 'COPY' && /^--from=pg-client \/opt\/pg-client /.test(i.args))).toBe(true);
    const runtimeRuns = final.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    for (const tool of ['pg_dump', 'pg_restore', 'psql']) expect(runtimeRuns).toContain(`${tool} --version`);
  });

  it('is multi-stage, and the runtime stage runs as the non-root uid 1000 user', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const users = final.filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(['node', '1000', '1000:1000', 'node:node']).toContain(users[users.length - 1]);
  });

  it('uses COPY, never ADD', () => {
    expect(ins.filter((i) => i.op === 'ADD')).toEqual([]);
  });

  it('keeps the classic builder working: no RUN --mount, no heredocs', () => {
    expect(ins.filter((i) => i.op === 'RUN' && (/--mount/.test(i.args) || /<</.test(i.args)))).toEqual([]);
    expect(text).not.toMatch(/^#\s*syntax=/m);
  });

  it('installs with npm ci, builds, and prunes dev dependencies in the build stage', () => {
    const build = all[0]!.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  it('starts through an init (tini) that exists in the runtime stage', () => {
    const entry = final.find((i) => i.op === 'ENTRYPOINT');
    expect(entry?.args).toBe('["/usr/bin/tini", "--"]');
    expect(final.some((i) => i.op === 'COPY' && /--from=\S+ \/usr\/bin\/tini \/usr\/bin\/tini/.test(i.args))).toBe(true);
  });

  it('has the services issue health-check command and the api as the default command', () => {
    expect(final.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/CMD \["node", "dist\/ops\/healthcheck\.js", "api"\]$/);
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? 'null') as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe('dist/api/main.js');
  });

  it('starts the api with the same command, heap flags included, in the image, compose and Kubernetes', () => {
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? 'null') as string[];
    expect(cmd).toEqual(expect.arrayContaining(['--max-semi-space-size=16', '--max-old-space-size=512']));
    expect(loadCompose(path.join(REPO_ROOT, 'docker-compose.prod.yml')).services.api!.command).toEqual(cmd);
    const deployment = YAML.parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, 'deploy/kubernetes/base/api.yaml'), 'utf8'))
      .map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: { name: string; args?: string[] }[] } } } })
      .find((o) => o.kind === 'Deployment')!;
    expect(deployment.spec.template.spec.containers.find((c) => c.name === 'api')?.args).toEqual(cmd);
  });

  it('puts ferryctl on PATH from the package bin', () => {
    expect(final.some((i) => i.op === 'RUN' && /bin\.ferryctl/.test(i.args) && /\/usr\/local\/bin\/ferryctl/.test(i.args))).toBe(true);
  });

  it('keeps build tools and secrets out of the runtime stage', () => {
    const runtimeRuns = final.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(runtimeRuns).not.toMatch(/apt-get install|npm (ci|install)|build-essential|gcc|make|python/);
    const copiesFromContext = final.filter((i) => i.op === 'COPY' && !/--from=/.test(i.args));
    expect(copiesFromContext).toEqual([]);
    expect(ins.filter((i) => (i.op === 'ARG' || i.op === 'ENV') && /(PASSWORD|SECRET|TOKEN|API_?KEY)/i.test(i.args))).toEqual([]);
  });

  it('is built from the repository root with a .dockerignore that keeps secrets and builds out', () => {
    const ignore = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    // Deny everything, then allow only what the build stage copies.
    expect(ignore).toContain('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/(\*\*)?$/, ''));
    for (const copy of all[0]!.filter((i) => i.op === 'COPY' && !/--from=/.test(i.args))) {
      const sources = copy.args.split(/\s+/).slice(0, -1).map((s) => s.replace(/^\.\//, '').replace(/\/$/, ''));
      for (const src of sources) expect(allowed).toContain(src);
    }
    for (const secret of ['secrets', 'certs', '.env.production']) expect(allowed).not.toContain(secret);
  });
});
