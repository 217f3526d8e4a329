import { execFileSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import { SECRET_VARIABLES } from '../../services/core/config/env-schema';
import { REPO_ROOT } from './repo-root';

/** A rendered Kubernetes object (only the fields the policy reads are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** Where the kustomize overlays are. */
export const KUBERNETES_DIR = path.join(REPO_ROOT, 'deploy', 'kubernetes');

/** `kubectl kustomize` of one overlay, parsed into its objects. */
export function renderOverlay(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', path.join(KUBERNETES_DIR, 'overlays', overlay)], { maxBuffer: 64 * 1024 * 1024 }).toString();
  return YAML.parseAllDocuments(out).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

/** Kinds that run pods, and where their pod template is. */
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod'] as const;

interface Probe {
  httpGet?: { path?: string; port?: unknown };
  exec?: { command?: string[] };
  tcpSocket?: unknown;
}
/** The container fields the policy reads. */
export interface Container {
  name: string;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: unknown } }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
/** The pod spec fields the policy reads. */
export interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; hostPath?: unknown; secret?: { secretName: string } }>;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
}

/** A workload and the labels and spec of the pods it runs. */
export interface Workload {
  kind: string;
  name: string;
  podLabels: Record<string, string>;
  pod: PodSpec;
}

/** Every object that runs pods, with its pod template. */
export function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => (WORKLOAD_KINDS as readonly string[]).includes(o.kind))
    .map((o) => {
      if (o.kind === 'Pod') return { kind: o.kind, name: o.metadata.name, podLabels: o.metadata.labels ?? {}, pod: o.spec as unknown as PodSpec };
      const template = (o.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } }).template;
      return { kind: o.kind, name: o.metadata.name, podLabels: template.metadata?.labels ?? {}, pod: template.spec };
    });
}

/** True when a label selector (matchLabels and matchExpressions In/NotIn/Exists) selects these labels. */
export function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A container's plain environment: its envFrom ConfigMaps' data, then its literal env values. */
export function containerEnv(c: Container, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ref of c.envFrom ?? []) {
    const cm = ref.configMapRef && objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.configMapRef!.name);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** One broken rule of one workload. */
export interface K8sViolation {
  workload: string;
  rule: string;
  message: string;
}

const quantityKeys = ['cpu', 'memory'];

/**
 * The restricted Pod Security profile and Ferry's own rules, for every workload of a rendered
 * overlay: non-root, read-only root, no capabilities, seccomp RuntimeDefault, no privilege
 * escalation, no host namespaces or host paths, requests and limits, probes for long-running
 * containers, secrets only as files, a PodDisruptionBudget for each Deployment, and at least one
 * NetworkPolicy besides the default deny selecting each pod.
 */
export function kubernetesPolicyViolations(objects: K8sObject[]): K8sViolation[] {
  const out: K8sViolation[] = [];
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const defaultDeny = policies.find((p) => {
    const s = p.spec as { podSelector?: Record<string, unknown>; policyTypes?: string[]; ingress?: unknown; egress?: unknown };
    return Object.keys(s.podSelector ?? {}).length === 0 && (s.policyTypes ?? []).includes('Ingress') && (s.policyTypes ?? []).includes('Egress') && !s.ingress && !s.egress;
  });
  if (!defaultDeny) out.push({ workload: '*', rule: 'network-default-deny', message: 'no NetworkPolicy denies all ingress and egress by default' });

  for (const w of workloads(objects)) {
    const id = `${w.kind}/${w.name}`;
    const bad = (rule: string, message: string) => out.push({ workload: id, rule, message });
    const p = w.pod;
    if (p.securityContext?.runAsNonRoot !== true) bad('run-as-non-root', 'pod securityContext.runAsNonRoot is not true');
    if (p.securityContext?.runAsUser === 0) bad('run-as-non-root', 'pod runs as uid 0');
    if (p.securityContext?.seccompProfile?.type !== 'RuntimeDefault') bad('seccomp', 'pod seccompProfile is not RuntimeDefault');
    if (p.hostNetwork || p.hostPID || p.hostIPC) bad('host-namespace', 'pod shares a host namespace');
    if (p.automountServiceAccountToken !== false) bad('service-account-token', 'pod mounts a service account token it does not use');
    for (const v of p.volumes ?? []) if (v.hostPath) bad('host-path', `volume ${v.name} is a hostPath`);
    const secretVolumes = new Set((p.volumes ?? []).filter((v) => v.secret).map((v) => v.name));

    for (const c of [...(p.initContainers ?? []), ...p.containers]) {
      const sc = c.securityContext ?? {};
      const cid = `container ${c.name}`;
      if (sc.allowPrivilegeEscalation !== false) bad('privilege-escalation', `${cid}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) bad('read-only-root', `${cid}: readOnlyRootFilesystem is not true`);
      if (sc.privileged) bad('privileged', `${cid} is privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) bad('capabilities', `${cid}: capabilities.drop lacks ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) bad('capabilities', `${cid} adds capabilities ${sc.capabilities?.add?.join(', ')}`);
      if (sc.runAsUser === 0) bad('run-as-non-root', `${cid} runs as uid 0`);
      if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault') bad('seccomp', `${cid}: seccompProfile is ${sc.seccompProfile.type}`);
      for (const k of quantityKeys) {
        if (c.resources?.requests?.[k] === undefined) bad('resources', `${cid}: no ${k} request`);
        if (c.resources?.limits?.[k] === undefined) bad('resources', `${cid}: no ${k} limit`);
      }
      if (w.kind !== 'Job' && !(p.initContainers ?? []).includes(c)) {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
          if (!c[probe]) bad('probes', `${cid}: no ${probe}`);
        }
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) bad('secret-as-file', `${cid}: ${e.name} takes a Secret as an environment variable, not a file`);
      }
      for (const ref of c.envFrom ?? []) {
        if (ref.secretRef) bad('secret-as-file', `${cid}: takes the Secret ${ref.secretRef.name} as environment variables, not files`);
      }
      // Every secret's *_FILE setting (from env or from a ConfigMap in envFrom) names a file of a mounted Secret.
      const mounts = (c.volumeMounts ?? []).filter((m) => secretVolumes.has(m.name)).map((m) => m.mountPath);
      for (const [name, value] of Object.entries(containerEnv(c, objects))) {
        const secret = name.endsWith('_FILE') && ((SECRET_VARIABLES as readonly string[]).includes(name.slice(0, -5)) || value.startsWith('/run/secrets/'));
        if (secret && !mounts.some((m) => value.startsWith(`${m}/`))) {
          bad('secret-as-file', `${cid}: ${name}=${value} is not a file of a mounted Secret`);
        }
      }
    }

    if (w.kind === 'Deployment' || w.kind === 'StatefulSet') {
      if (!pdbs.some((pdb) => selects((pdb.spec as { selector?: Parameters<typeof selects>[0] }).selector, w.podLabels))) {
        bad('pod-disruption-budget', 'no PodDisruptionBudget selects its pods');
      }
    }
    const own = policies.filter((np) => np !== defaultDeny && selects((np.spec as { podSelector?: Parameters<typeof selects>[0] }).podSelector, w.podLabels)
      && Object.keys((np.spec as { podSelector?: Record<string, unknown> }).podSelector ?? {}).length > 0);
    if (own.length === 0) bad('network-policy', 'no NetworkPolicy of its own selects its pods (only the namespace-wide ones)');
  }
  return out;
}
