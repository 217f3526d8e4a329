import { execFileSync } from 'node:child_process';
import type { K8sObject } from '../../support/kubernetes-policy';
import { run } from './docker-engine';

/**
 * What `podman kube play` (4.3 and later) does with each kind of a rendered overlay. Every kind
 * the trial overlay renders must be listed here, so nothing is ever dropped without being named.
 */
export const KIND_HANDLING: Record<string, { how: 'played' | 'converted' | 'not run'; note: string }> = {
  ConfigMap: { how: 'played', note: 'files and environment of the pods' },
  Secret: { how: 'played', note: 'a podman secret per Secret, mounted as files' },
  PersistentVolumeClaim: { how: 'played', note: 'a podman volume per claim' },
  Deployment: { how: 'played', note: 'one pod per replica (pod-0, pod-1, …; strategy and affinity are not applied)' },
  Job: { how: 'converted', note: 'podman has no Job: its pod template is played as a Pod and the test waits for it to exit 0' },
  Service: { how: 'not run', note: 'no Services: the pods reach each other by their pod names on a podman network (the test rewrites the addresses)' },
  NetworkPolicy: { how: 'not run', note: 'no network policies: every pod on the test network can reach every other' },
  HorizontalPodAutoscaler: { how: 'not run', note: 'no autoscaling' },
  PodDisruptionBudget: { how: 'not run', note: 'no evictions to budget for' },
};

/** Why this machine cannot play Kubernetes YAML with podman, or undefined when it can. */
export function kubePlayUnavailable(): string | undefined {
  try {
    const v = execFileSync('podman', ['version', '--format', '{{.Client.Version}}'], { timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
    const [major, minor] = v.split('.').map(Number);
    if (major! < 4 || (major === 4 && minor! < 3)) return `podman ${v} is too old for kube play of Deployments (4.3 or later)`;
    execFileSync('podman', ['info', '--format', '{{.Host.NetworkBackend}}'], { timeout: 20_000, stdio: 'ignore' });
  } catch (err) {
    return `no working podman here: ${(err as Error).message.split('\n')[0]}`;
  }
  try {
    execFileSync('sh', ['-c', 'command -v catatonit'], { stdio: 'ignore' });
  } catch {
    return 'podman pods need catatonit for their infra container (apt-get install catatonit)';
  }
  return undefined;
}

/** Runs podman with the given arguments; rejects with its output when it fails. */
export function podman(args: string[], opts: { input?: string; timeoutMs?: number; allowFailure?: boolean } = {}) {
  return run('podman', args, { timeoutMs: opts.timeoutMs ?? 300_000, input: opts.input, allowFailure: opts.allowFailure });
}

/** Removes every pod, volume, secret and network whose name starts with prefix (and only those). */
export async function removeByPrefix(prefix: string, network: string): Promise<string[]> {
  const removed: string[] = [];
  // Cleanup goes on past a step that fails or hangs.
  const attempt = (args: string[], timeoutMs = 60_000) => podman(args, { allowFailure: true, timeoutMs }).catch(() => undefined);
  const names = async (args: string[]) => (await podman(args, { allowFailure: true })).stdout.split('\n').map((s) => s.trim()).filter((n) => n.startsWith(prefix));
  for (const pod of await names(['pod', 'ps', '--format', '{{.Name}}'])) {
    await attempt(['pod', 'rm', '-f', '-t', '0', pod], 120_000);
    removed.push(`pod ${pod}`);
  }
  for (const volume of await names(['volume', 'ls', '--format', '{{.Name}}'])) {
    await attempt(['volume', 'rm', '-f', volume]);
    removed.push(`volume ${volume}`);
  }
  for (const secret of await names(['secret', 'ls', '--format', '{{.Name}}'])) {
    await attempt(['secret', 'rm', secret]);
    removed.push(`secret ${secret}`);
  }
  if ((await podman(['network', 'exists', network], { allowFailure: true })).code === 0) {
    await attempt(['network', 'rm', '-f', network]);
    removed.push(`network ${network}`);
  }
  return removed;
}

/** The pod spec of a Job as a Pod of the same name (podman kube play has no Job). */
export function jobAsPod(job: K8sObject): K8sObject {
  const template = (job.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } }).template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: job.metadata.name, labels: template.metadata?.labels ?? {} },
    spec: template.spec,
  };
}
