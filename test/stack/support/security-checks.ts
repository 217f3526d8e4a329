import { parseProcStatus, privilegeProblem, type ContainerProcess } from './container-inspection';
import type { ContainerDetails, StackProject } from './stack-project';

/** The parts of `docker compose config --format json` the checks read. */
export interface ComposeModel {
  services: Record<string, { cap_add?: string[]; cap_drop?: string[]; networks?: Record<string, unknown> | null; profiles?: string[] }>;
  networks?: Record<string, { name?: string; internal?: boolean }>;
}

export interface SecurityReport {
  problems: string[];
  notes: string[];
}

const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

/** Processes of a running container, read inside it; a host-PID container shows only the exec'd process (same user and bounding set). */
async function processes(project: StackProject, d: ContainerDetails): Promise<ContainerProcess[] | undefined> {
  const hostPid = d.HostConfig.PidMode === 'host';
  const script = hostPid ? 'cat /proc/self/status' : 'cat /proc/[0-9]*/status 2>/dev/null; true';
  const r = await project.docker(['exec', d.Id, 'sh', '-c', script], { allowFailure: true, timeoutMs: 30_000 });
  if (r.code !== 0) return undefined;
  const procs = parseProcStatus(r.stdout);
  // The `cat` itself is not one of the container's processes, except where it is the only view.
  return hostPid ? procs : procs.filter((p) => p.name !== 'cat' && p.name !== 'sh');
}

/**
 * Inspects every container of the project: non-root (or an image's documented privilege drop),
 * read-only root, nothing privileged, no capability in any process's bounding set beyond the
 * service's cap_add, published ports only on nginx (main stack) or on 127.0.0.1 (monitoring), and
 * the main stack's inner services on internal networks only.
 */
export async function securityReport(
  project: StackProject,
  model: ComposeModel,
  opts: { mainServices: ReadonlySet<string>; publicService: string; bindAddress: string; ignore: ReadonlySet<string> },
): Promise<SecurityReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const containers = (await project.containers()).filter((c) => !opts.ignore.has(c.service));
  const details = await project.inspect(containers.map((c) => c.id));
  const networkInternal = new Map<string, boolean>();
  const internal = async (net: string) => {
    if (!networkInternal.has(net)) {
      const r = await project.docker(['network', 'inspect', net, '--format', '{{.Internal}}']);
      networkInternal.set(net, r.stdout.trim() === 'true');
    }
    return networkInternal.get(net)!;
  };

  for (const d of details) {
    const service = d.Config.Labels?.['com.docker.compose.service'] ?? d.Name;
    const who = `${service} (${d.Name.replace(/^\//, '')})`;
    const cfg = model.services[service];
    if (!cfg) {
      problems.push(`${who}: not in the compose model`);
      continue;
    }
    const main = opts.mainServices.has(service);
    if (d.HostConfig.ReadonlyRootfs !== true) problems.push(`${who}: root file system is writable`);
    if (d.HostConfig.Privileged) problems.push(`${who}: privileged`);
    for (const [mode, v] of [['network', d.HostConfig.NetworkMode], ['pid', d.HostConfig.PidMode], ['ipc', d.HostConfig.IpcMode]] as const) {
      if (v === 'host') (main ? problems : notes).push(`${who}: shares the host's ${mode} namespace`);
    }
    if (!(cfg.cap_drop ?? []).map(capName).includes('ALL')) problems.push(`${who}: compose does not drop ALL capabilities`);
    const allowed = new Set((cfg.cap_add ?? []).map(capName));

    const bindings = Object.entries(d.HostConfig.PortBindings ?? {}).flatMap(([port, b]) => (b ?? []).map((x) => ({ port, ...x })));
    for (const b of bindings) {
      const where = `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${b.port}`;
      if (main && service !== opts.publicService) problems.push(`${who}: publishes ${where}; only ${opts.publicService} may publish ports`);
      else if (main && b.HostIp !== opts.bindAddress) problems.push(`${who}: publishes ${where}, not on FERRY_BIND_ADDRESS ${opts.bindAddress}`);
      else if (!main && b.HostIp !== '127.0.0.1') problems.push(`${who}: publishes ${where} beyond 127.0.0.1`);
    }

    if (main && service !== opts.publicService) {
      for (const net of Object.keys(d.NetworkSettings.Networks ?? {})) {
        if (!(await internal(net))) problems.push(`${who}: attached to ${net}, which is not internal`);
      }
    }

    if (!d.State.Running) {
      notes.push(`${who}: ${d.State.Status} (exit ${d.State.ExitCode}); processes not inspected`);
      continue;
    }
    const procs = await processes(project, d);
    if (!procs) {
      // Images built FROM scratch have no shell: fall back to the configured user.
      const user = d.Config.User ?? '';
      if (!user || /^(0|root)(:|$)/.test(user)) problems.push(`${who}: no shell to inspect and no non-root user configured`);
      else notes.push(`${who}: no shell inside; checked from its configuration (user ${user})`);
      continue;
    }
    const why = privilegeProblem(procs);
    if (why) problems.push(`${who}: ${why}`);
    const extra = new Set(procs.flatMap((p) => p.bounding.filter((c) => !allowed.has(c))));
    if (extra.size) problems.push(`${who}: can hold capabilities compose does not list: ${[...extra].join(', ')}`);
  }

  for (const [key, net] of Object.entries(model.networks ?? {})) {
    if (key !== 'backend') continue;
    const name = net.name ?? `${project.name}_${key}`;
    if (!(await internal(name))) problems.push(`network ${name}: not internal`);
  }
  if (!model.networks?.backend) problems.push('the compose model has no network named backend');
  return { problems, notes };
}
