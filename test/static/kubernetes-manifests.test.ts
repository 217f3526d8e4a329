// The Kubernetes manifests (deploy/kubernetes): every overlay renders with `kubectl kustomize`,
// every object is valid against the Kubernetes (and Prometheus Operator) schemas offline, the
// generated copies match the Compose stack's files, and every workload meets the restricted Pod
// Security profile and Ferry's own rules (probes, limits, disruption budgets, network policies).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from '../support/repo-root';
import {
  KUBERNETES_DIR, containerEnv, kubernetesPolicyViolations, renderOverlay, selects, workloads, type K8sObject,
} from '../support/kubernetes-policy';

const OVERLAYS = fs.readdirSync(path.join(KUBERNETES_DIR, 'overlays')).sort();
const VALIDATOR = path.join(REPO_ROOT, 'scripts', 'validate-kubernetes.mjs');

function validate(yamlText: string): { status: number | null; report: { objects: number; errors: Array<{ object: string; error: string }> } } {
  const r = spawnSync(process.execPath, [VALIDATOR], { input: yamlText, cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, report: JSON.parse(r.stdout) as { objects: number; errors: Array<{ object: string; error: string }> } };
}

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('deploy/kubernetes', () => {
  it('has the trial, production and production-monitored overlays', () => {
    expect(OVERLAYS).toEqual(expect.arrayContaining(['trial', 'production', 'production-monitored']));
  });

  it('holds generated copies that match the files the Compose stack uses', () => {
    const r = spawnSync(process.execPath, [path.join(KUBERNETES_DIR, 'generate.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses an object the schemas reject, and one of a kind it has no schema for', () => {
    const bad = YAML.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: { spec: { containers: [] } } } });
    const unknown = YAML.stringify({ apiVersion: 'example.org/v1', kind: 'Gadget', metadata: { name: 'y' } });
    const { status, report } = validate(`${bad}---\n${unknown}`);
    expect(status).toBe(1);
    expect(report.errors).toEqual([
      { object: 'Deployment/x', error: expect.stringContaining('replicas must be integer') },
      { object: 'Gadget/y', error: 'no schema bundled for example.org/v1 Gadget' },
    ]);
  });

  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    let rendered: string;
    let objects: K8sObject[];
    beforeAll(() => {
      rendered = execFileSync('kubectl', ['kustomize', path.join(KUBERNETES_DIR, 'overlays', overlay)], { maxBuffer: 64 * 1024 * 1024 }).toString();
      objects = renderOverlay(overlay);
    });

    it('renders objects that are all valid against the Kubernetes schemas', () => {
      const { status, report } = validate(rendered);
      expect(report.errors).toEqual([]);
      expect(status).toBe(0);
      expect(report.objects).toBe(objects.length);
    });

    it('puts every namespaced object in the ferry namespace', () => {
      expect(objects.filter((o) => o.metadata.namespace !== 'ferry').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    });

    it('meets the restricted Pod Security profile, with probes, limits, a PDB and NetworkPolicies for every workload', () => {
      expect(workloads(objects).map((w) => w.name)).toEqual(expect.arrayContaining(['api', 'worker', 'nginx', 'ferry-migrate']));
      expect(kubernetesPolicyViolations(objects)).toEqual([]);
    });

    it('maps the api probes to /health/startup, /health/live and /health/ready', () => {
      const api = workloads(objects).find((w) => w.name === 'api')!.pod.containers[0]!;
      expect([api.startupProbe?.httpGet?.path, api.livenessProbe?.httpGet?.path, api.readinessProbe?.httpGet?.path])
        .toEqual(['/health/startup', '/health/live', '/health/ready']);
    });

    it('lets the HorizontalPodAutoscaler own the api replica count', () => {
      const hpa = find(objects, 'HorizontalPodAutoscaler', 'api')!;
      expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
      expect(find(objects, 'Deployment', 'api')!.spec).not.toHaveProperty('replicas');
    });

    it('gives api, worker and migrate their secrets as files and a database and Redis to reach', () => {
      for (const name of ['api', 'worker', 'ferry-migrate']) {
        const c = workloads(objects).find((w) => w.name === name)!.pod.containers[0]!;
        const env = containerEnv(c, objects);
        expect(env.FERRY_ADMIN_TOKEN_FILE).toBe('/run/secrets/ferry/ferry_admin_token');
        expect(env.DATABASE_URL ?? env.DATABASE_URL_FILE).toBeDefined();
        expect(env.REDIS_URL ?? env.REDIS_URL_FILE).toBeDefined();
      }
    });

    it('lets only nginx be reached from outside, and only on its HTTP and HTTPS ports', () => {
      const open = objects.filter((o) => o.kind === 'NetworkPolicy')
        .flatMap((np) => ((np.spec as { ingress?: Array<{ from?: unknown[]; ports?: Array<{ port: number }> }> }).ingress ?? [])
          .filter((rule) => !rule.from || rule.from.length === 0)
          .map((rule) => ({ policy: np.metadata.name, ports: (rule.ports ?? []).map((p) => p.port) })));
      expect(open).toEqual([{ policy: 'nginx', ports: [8080, 8443] }]);
    });

    it('ships every Grafana dashboard in one ConfigMap for the dashboard sidecar', () => {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ferry-grafana-dashboards-'))!;
      expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
      const dir = path.join(REPO_ROOT, 'monitoring', 'grafana', 'dashboards');
      for (const f of fs.readdirSync(dir)) expect(cm.data?.[f]).toBe(fs.readFileSync(path.join(dir, f), 'utf8'));
    });
  });

  it('runs PostgreSQL and Redis in the trial only, and reaches them by URL files in production', () => {
    const trial = renderOverlay('trial');
    const production = renderOverlay('production');
    expect(workloads(trial).map((w) => w.name)).toEqual(expect.arrayContaining(['postgres', 'redis']));
    expect(workloads(production).map((w) => w.name)).not.toEqual(expect.arrayContaining(['postgres']));
    const env = containerEnv(workloads(production).find((w) => w.name === 'worker')!.pod.containers[0]!, production);
    expect([env.DATABASE_URL_FILE, env.REDIS_URL_FILE, env.DATABASE_URL]).toEqual(['/run/secrets/ferry/database_url', '/run/secrets/ferry/redis_url', undefined]);
  });

  it('keeps workers on labelled archive nodes in production (and anywhere in the trial)', () => {
    const term = (objects: K8sObject[]) => (workloads(objects).find((w) => w.name === 'worker')!.pod as unknown as {
      affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: unknown[] } } };
    }).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    expect(term(renderOverlay('production'))).toEqual([{ matchExpressions: [{ key: 'ferry-archive-node', operator: 'In', values: ['true'] }] }]);
    expect(term(renderOverlay('trial'))).toBeUndefined();
  });

  it('monitors with the Prometheus Operator only in production-monitored, with the Compose rule files', () => {
    expect(renderOverlay('production').filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    const objects = renderOverlay('production-monitored');
    const rule = find(objects, 'PrometheusRule', 'ferry')!;
    const rulesDir = path.join(REPO_ROOT, 'monitoring', 'prometheus', 'rules');
    const groups = fs.readdirSync(rulesDir).filter((f) => f.endsWith('.yml')).sort()
      .flatMap((f) => (YAML.parse(fs.readFileSync(path.join(rulesDir, f), 'utf8')) as { groups: { rules: { annotations?: Record<string, string> }[] }[] }).groups);
    // The runbook base URL comes from the Prometheus's external label runbook_base_url, filled in when an alert fires.
    for (const r of groups.flatMap((g) => g.rules)) {
      if (r.annotations?.runbook_url) r.annotations.runbook_url = r.annotations.runbook_url.replace('${FERRY_RUNBOOK_BASE_URL}', '{{ $externalLabels.runbook_base_url }}');
    }
    expect((rule.spec as { groups: unknown[] }).groups).toEqual(groups);
    expect(JSON.stringify(rule.spec)).not.toContain('${');
    for (const [name, component, job] of [['ferry-api', 'api', 'ferry-api'], ['ferry-worker', 'worker', 'ferry-worker']]) {
      const sm = find(objects, 'ServiceMonitor', name!)!;
      const spec = sm.spec as { selector: Parameters<typeof selects>[0]; endpoints: Array<{ port: string; relabelings: unknown[] }> };
      const service = objects.find((o) => o.kind === 'Service' && selects(spec.selector, o.metadata.labels ?? {}))!;
      expect(service.metadata.name).toBe(component);
      expect(spec.endpoints[0]!.relabelings).toEqual(expect.arrayContaining([{ targetLabel: 'job', replacement: job }]));
    }
  });

  it('the policy names each broken rule (it is not a check that cannot fail)', () => {
    const objects = renderOverlay('trial');
    const worker = workloads(objects).find((w) => w.name === 'worker')!;
    const c = worker.pod.containers[0]!;
    delete c.securityContext!.readOnlyRootFilesystem;
    c.securityContext!.capabilities = { add: ['NET_ADMIN'] };
    delete c.resources!.limits;
    delete c.livenessProbe;
    c.env!.push({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'ferry-secrets', key: 'redis_password' } } });
    worker.pod.volumes!.push({ name: 'host', hostPath: { path: '/' } });
    const withoutPdb = objects.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'worker') && !(o.kind === 'NetworkPolicy' && o.metadata.name === 'worker'));
    const rules = kubernetesPolicyViolations(withoutPdb).filter((v) => v.workload === 'Deployment/worker').map((v) => v.rule);
    expect([...new Set(rules)].sort()).toEqual(['capabilities', 'host-path', 'pod-disruption-budget', 'probes', 'read-only-root', 'resources', 'secret-as-file']);
    const noDeny = kubernetesPolicyViolations(objects.filter((o) => o.metadata.name !== 'ferry-default-deny'));
    expect(noDeny).toEqual(expect.arrayContaining([expect.objectContaining({ rule: 'network-default-deny' })]));
  });
});
