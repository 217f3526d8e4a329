import { envRules } from '../../services/core/config/env-rules';
import { interpolate, serviceEnv, type ComposeFile, type ComposeService } from './compose';

/** One broken rule of one service. */
export interface PolicyViolation {
  service: string;
  rule: PolicyRule;
  message: string;
}

export type PolicyRule =
  | 'healthcheck'
  | 'resources'
  | 'pids-limit'
  | 'restart'
  | 'no-new-privileges'
  | 'cap-drop-all'
  | 'cap-add'
  | 'read-only'
  | 'log-rotation'
  | 'privileged'
  | 'host-namespace'
  | 'docker-socket'
  | 'sensitive-host-path'
  | 'published-port'
  | 'secret-literal'
  | 'depends-on-condition'
  | 'image-tag'
  | 'container-name'
  | 'stop-grace-period';

export interface PolicyOptions {
  /** Values used to interpolate ${VAR} in ports and volume sources (e.g. the example env file). */
  env?: Record<string, string | undefined>;
  /** Host ports each service may publish (default: nginx may publish 80 and 443). */
  publish?: Record<string, number[]>;
  /** Capabilities a service may add back, each needing a reason in the caller. */
  capAdd?: Record<string, string[]>;
  /** Rules waived for a service; the caller documents why next to the waiver. */
  waive?: Record<string, PolicyRule[]>;
}

const SENSITIVE_HOST_PATHS = ['/', '/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/home', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/var/lib/docker', '/var/lib/containerd', '/var/run', '/run'];
const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock', '/run/podman/podman.sock'];
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;
// A value that is only a compose reference (resolved from the env file) is not a literal.
const PURE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/;

function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  let total = 0;
  let matched = '';
  for (const m of v.matchAll(/([0-9.]+)(h|ms|m|s|us|ns)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : m[2] === 'ms' ? n / 1000 : 0;
    matched += m[0];
  }
  return matched === v && matched ? total : undefined;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

/** Host ports a service publishes (short and long syntax), interpolated. */
export function publishedPorts(service: ComposeService, env: Record<string, string | undefined>): { host: number | undefined; raw: string }[] {
  const ports = (service.ports as unknown[] | undefined) ?? [];
  return ports.map((p) => {
    if (typeof p === 'object' && p !== null) {
      const pub = (p as { published?: unknown }).published;
      return { host: pub === undefined ? undefined : Number(interpolate(String(pub), env)), raw: JSON.stringify(p) };
    }
    const s = interpolate(String(p), env).replace(/\/(tcp|udp)$/, '');
    // [ip:]host:container, where ip may be [v6]; a bare container port publishes a random host port.
    const parts = s.replace(/^\[[^\]]*\]:/, 'ip:').split(':');
    const host = parts.length >= 2 ? Number(parts[parts.length - 2]) : undefined;
    return { host, raw: String(p) };
  });
}

/** Bind-mount sources of a service (short and long syntax), interpolated; named volumes excluded. */
function bindSources(service: ComposeService, env: Record<string, string | undefined>): string[] {
  const vols = (service.volumes as unknown[] | undefined) ?? [];
  const out: string[] = [];
  for (const v of vols) {
    if (typeof v === 'string') {
      const src = interpolate(v, env).split(':')[0]!;
      if (src.startsWith('/') || src.startsWith('.') || src.startsWith('~')) out.push(src);
    } else if (v && typeof v === 'object' && (v as { type?: string }).type === 'bind') {
      out.push(interpolate(String((v as { source?: string }).source ?? ''), env));
    }
  }
  return out;
}

/**
 * Services started once to completion: the targets of a service_completed_successfully dependency,
 * and the services of the `ops` profile, which only `docker compose run --rm` starts.
 */
export function oneShotServices(doc: ComposeFile): Set<string> {
  const out = new Set<string>();
  for (const [name, svc] of Object.entries(doc.services ?? {})) {
    if (Array.isArray(svc.profiles) && svc.profiles.includes('ops')) out.add(name);
  }
  for (const svc of Object.values(doc.services ?? {})) {
    const deps = svc.depends_on;
    if (deps && !Array.isArray(deps) && typeof deps === 'object') {
      for (const [name, d] of Object.entries(deps as Record<string, { condition?: string }>)) {
        if (d?.condition === 'service_completed_successfully') out.add(name);
      }
    }
  }
  return out;
}

/**
 * Checks every service of a compose file against the stack's hardening policy (issue 6): health
 * check, resources, PIDs limit, restart, no-new-privileges, cap_drop ALL, read_only, log rotation;
 * nothing privileged, no host namespaces, no Docker socket or sensitive host path, no published
 * port beyond the allowed ones, no secret literal. Returns every violation found.
 */
export function checkComposePolicy(doc: ComposeFile, opts: PolicyOptions = {}): PolicyViolation[] {
  const env = opts.env ?? {};
  const publish = opts.publish ?? { nginx: [80, 443] };
  const out: PolicyViolation[] = [];
  const oneShots = oneShotServices(doc);

  for (const [name, svc] of Object.entries(doc.services ?? {})) {
    const waived = new Set(opts.waive?.[name] ?? []);
    const add = (rule: PolicyRule, message: string) => {
      if (!waived.has(rule)) out.push({ service: name, rule, message });
    };
    const oneShot = oneShots.has(name);

    const hc = svc.healthcheck;
    if (oneShot) {
      // A one-shot has no steady state to check; it must not be restarted after it succeeded.
      if (!['no', 'on-failure'].includes(String(svc.restart ?? 'no').replace(/:\d+$/, ''))) add('restart', 'a one-shot service must use restart "no" or "on-failure"');
    } else {
      if (!hc || hc.disable === true || !hc.test || (Array.isArray(hc.test) && hc.test[0] === 'NONE')) add('healthcheck', 'has no health check');
      else {
        for (const key of ['interval', 'timeout', 'retries', 'start_period'] as const) {
          if (hc[key] === undefined) add('healthcheck', `health check lacks ${key}`);
        }
      }
      if (!['unless-stopped', 'always'].includes(String(svc.restart))) add('restart', `restart is ${String(svc.restart)}, expected unless-stopped`);
    }

    const res = (svc.deploy as { resources?: { limits?: Record<string, unknown>; reservations?: Record<string, unknown> } } | undefined)?.resources;
    for (const kind of ['limits', 'reservations'] as const) {
      for (const key of ['cpus', 'memory']) {
        if (res?.[kind]?.[key] === undefined || res[kind]![key] === '') add('resources', `deploy.resources.${kind}.${key} is missing`);
      }
    }
    const pids = svc.pids_limit ?? res?.limits?.pids;
    if (pids === undefined || !(Number(pids) > 0)) add('pids-limit', 'has no positive pids_limit');

    const secOpt = (svc.security_opt as string[] | undefined) ?? [];
    if (!secOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o))) add('no-new-privileges', 'security_opt lacks no-new-privileges:true');
    const capDrop = (svc.cap_drop as string[] | undefined) ?? [];
    if (!capDrop.some((c) => /^(CAP_)?ALL$/i.test(c))) add('cap-drop-all', 'cap_drop does not contain ALL');
    const allowedCaps = new Set((opts.capAdd?.[name] ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, '')));
    for (const c of (svc.cap_add as string[] | undefined) ?? []) {
      if (!allowedCaps.has(c.toUpperCase().replace(/^CAP_/, ''))) add('cap-add', `adds capability ${c} without a recorded need`);
    }
    if (svc.read_only !== true) add('read-only', `read_only is ${JSON.stringify(svc.read_only)}, expected the boolean true`);

    const logging = svc.logging as { driver?: string; options?: Record<string, unknown> } | undefined;
    if (logging?.driver !== 'json-file' || !logging.options?.['max-size'] || !logging.options?.['max-file']) {
      add('log-rotation', 'logging is not json-file with max-size and max-file');
    }

    if (svc.privileged === true || svc.privileged === 'true') add('privileged', 'is privileged');
    for (const key of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode', 'cgroup']) {
      if (svc[key] === 'host') add('host-namespace', `uses the host's ${key}`);
    }

    for (const src of bindSources(svc, env)) {
      const clean = src.replace(/\/+$/, '') || '/';
      if (DOCKER_SOCKETS.includes(clean) || /docker\.sock$/.test(clean)) add('docker-socket', `mounts the container engine socket ${src}`);
      else if (SENSITIVE_HOST_PATHS.some((p) => clean === p || (p !== '/' && ['/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/var/lib/docker', '/var/lib/containerd'].includes(p) && clean.startsWith(`${p}/`)))) {
        add('sensitive-host-path', `mounts the sensitive host path ${src}`);
      }
    }

    const allowedPorts = publish[name] ?? [];
    for (const p of publishedPorts(svc, env)) {
      if (p.host === undefined || !allowedPorts.includes(p.host)) add('published-port', `publishes ${p.raw} (allowed: ${allowedPorts.join(', ') || 'none'})`);
    }

    const environment = svc.environment;
    const envEntries: [string, string][] = Array.isArray(environment)
      ? (environment as string[]).map((s) => [s.split('=')[0]!, s.includes('=') ? s.slice(s.indexOf('=') + 1) : ''])
      : Object.entries(environment ?? {}).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]);
    for (const [k, v] of envEntries) {
      if (SECRET_NAME.test(k) && v !== '' && !PURE_REFERENCE.test(v)) add('secret-literal', `environment ${k} holds a literal secret (use a Docker secret and ${k}_FILE)`);
    }
    const argv = (v: unknown) => (Array.isArray(v) ? v.map(String).join(' ') : v);
    for (const s of strings([argv(svc.command), argv(svc.entrypoint), svc.environment, argv(svc.healthcheck?.test)])) {
      // Compose references (${VAR...}) are resolved from the env file: not literals.
      const userinfo = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:([^@\s/]+)@/i.exec(s.replace(/\$\{[^}]*\}/g, '\u0000'));
      if (userinfo && userinfo[1] !== '\u0000') add('secret-literal', 'holds a password inside a URL');
      const pass = /(--requirepass|--password|-a)[ =]+("?)([^"\s]+)\2/.exec(s);
      if (pass && !pass[3]!.startsWith('$')) add('secret-literal', `passes a literal password on a command line (${pass[1]})`);
    }

    const deps = svc.depends_on;
    if (Array.isArray(deps)) add('depends-on-condition', 'depends_on lists services without a condition');
    else if (deps && typeof deps === 'object') {
      for (const [dep, d] of Object.entries(deps as Record<string, { condition?: string }>)) {
        if (!['service_healthy', 'service_completed_successfully'].includes(String(d?.condition))) add('depends-on-condition', `depends on ${dep} with condition ${String(d?.condition)}`);
      }
    }

    if (svc.image !== undefined) {
      const image = interpolate(String(svc.image), env);
      const tag = /^(?:.*\/)?[^/:@]+(?::([^@/]+))?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
      if (!image.includes('@sha256:') && (!tag?.[1] || ['latest', 'stable', 'mainline', 'edge'].includes(tag[1]))) add('image-tag', `image ${image} is not pinned to a version`);
    }
    if (svc.container_name !== undefined) add('container-name', 'sets container_name, which breaks --scale and parallel projects');

    // A name passed through without a value gets the config schema's default when env leaves it unset.
    const declared = envEntries.some(([k]) => k === 'SHUTDOWN_GRACE_SECONDS');
    const drain = declared ? Number(serviceEnv(svc, env).SHUTDOWN_GRACE_SECONDS || envRules().variables.SHUTDOWN_GRACE_SECONDS?.default) : NaN;
    if (!Number.isNaN(drain) && !oneShot) {
      const grace = durationSeconds(svc.stop_grace_period);
      if (grace === undefined || grace <= drain) add('stop-grace-period', `stop_grace_period ${String(svc.stop_grace_period)} is not longer than SHUTDOWN_GRACE_SECONDS (${drain}s)`);
    }
  }
  return out;
}
