// The Kubernetes trial overlay (deploy/kubernetes/overlays/trial), rendered with `kubectl
// kustomize` and run with `podman kube play`: PostgreSQL and Redis, the migrate Job, api, worker
// and nginx in their restricted security contexts, with their ConfigMaps, Secrets (as files) and
// volumes; then Ferry publishes a product through nginx. What podman cannot run (Services,
// NetworkPolicies, the HorizontalPodAutoscaler, PodDisruptionBudgets) is named in the output.
// Needs podman 4.3+ (the container lab provides it); see docs/stack-test.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { KUBERNETES_DIR, workloads, type K8sObject } from '../../support/kubernetes-policy';
import { REPO_ROOT } from '../../support/repo-root';
import { waitFor } from '../../support/wait-for';
import { note, run } from './docker-engine';
import { jobAsPod, KIND_HANDLING, kubePlayUnavailable, podman, removeByPrefix } from './kube-play';

const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
/** Built from services/Dockerfile by this test under its own name (the build cache makes repeats quick). */
const IMAGE = 'localhost/ferry-kube-test:latest';
const DOMAIN = 'ferry.example.org';
const why = kubePlayUnavailable();

/**
 * Registers the Kubernetes trial overlay's suite (or, without podman, its skip notice; in CI a
 * failure). The compose stack test's file runs it first: the two share the container engine and
 * its DNS, and while kube play created its network and pods beside a running compose stack, that
 * stack's new PostgreSQL connections timed out for 20 s.
 */
export function kubePlayTrial(): void {
  if (why) {
    process.stderr.write(`\n${'!'.repeat(90)}\n!! KUBE PLAY TEST ${IN_CI ? 'FAILED' : 'SKIPPED'}: ${why}\n!! It runs the Kubernetes trial overlay with podman kube play (the container lab has podman).\n${'!'.repeat(90)}\n`);
    if (IN_CI) {
      describe('the Kubernetes trial overlay under podman kube play', () => {
        it('has podman to run on in CI', () => {
          throw new Error(`CI=true but ${why}`);
        });
      });
    } else {
      describe.skip(`the Kubernetes trial overlay under podman kube play (skipped: ${why})`, () => {
        it('publishes a product', () => undefined);
      });
    }
  } else {
    kubePlaySuite();
  }
}

/** One HTTPS request to nginx at ip:8443 for DOMAIN, trusting only the test's certificate. */
function request(ip: string, ca: string, method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({
      host: ip, port: 8443, method, path: url, ca, servername: DOMAIN, timeout: 20_000,
      headers: {
        Host: DOMAIN, ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { unparsed: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 20 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function kubePlaySuite(): void {
  describe('the Kubernetes trial overlay under podman kube play', () => {
    const id = crypto.randomBytes(3).toString('hex');
    const prefix = `ferry-kube-test-${id}-`;
    const network = `ferry-kube-test-${id}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-kube-test-'));
    let failed = false;

    afterAll(async () => {
      if (failed) {
        for (const c of (await podman(['ps', '-a', '--format', '{{.Names}}'], { allowFailure: true })).stdout.split('\n').filter((n) => n.startsWith(prefix))) {
          const logs = await podman(['logs', '--tail', '30', c], { allowFailure: true });
          note(`logs of ${c}:\n${logs.stdout}${logs.stderr}`);
        }
      }
      note(`removed: ${(await removeByPrefix(prefix, network)).join(', ') || 'nothing'}`);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('runs the rendered trial overlay\'s workloads and publishes a product through nginx', async () => {
      try {
        await scenario();
      } catch (err) {
        failed = true;
        throw err;
      }
    }, 30 * 60_000);

    async function scenario(): Promise<void> {
      note(`building ${IMAGE} from services/Dockerfile`);
      await run('podman', ['build', '-f', 'services/Dockerfile', '-t', IMAGE, '.'], { cwd: REPO_ROOT, timeoutMs: 1_500_000 });

      // ---- Render: the trial overlay, under names of the test's own, with the lab's Secrets ----
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${DOMAIN}`, '-addext', `subjectAltName=DNS:${DOMAIN}`,
        '-keyout', path.join(dir, 'tls.key'), '-out', path.join(dir, 'tls.crt')]);
      const pod = (deployment: string) => `${prefix}${deployment}-pod-0`;
      const secret = () => crypto.randomBytes(24).toString('hex');
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), YAML.stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        // kustomize takes a base by relative path only.
        resources: [path.relative(dir, path.join(KUBERNETES_DIR, 'overlays', 'trial'))],
        namePrefix: prefix,
        images: [{ name: 'ferry', newName: IMAGE.split(':')[0], newTag: IMAGE.split(':')[1] }],
        configMapGenerator: [
          // No Services under podman: the datastores by their pod names on the test network.
          { name: 'ferry-env', behavior: 'merge', literals: [`DATABASE_URL=postgres://ferry@${pod('postgres')}:5432/ferry`, `REDIS_URL=redis://${pod('redis')}:6379`, 'API_WORKERS=1', 'PUBLISH_FREE_SPACE_MARGIN_MB=16'] },
          { name: 'ferry-nginx-env', behavior: 'merge', literals: [`NGINX_SERVER_NAME=${DOMAIN}`, `FERRY_PUBLIC_URL=https://${DOMAIN}`] },
          { name: 'ferry-tls-lab', files: ['tls.crt', 'tls.key'] },
        ],
      }));
      const rendered = (await run('kubectl', ['kustomize', dir])).stdout;
      const objects = YAML.parseAllDocuments(rendered).map((d) => d.toJS() as K8sObject).filter(Boolean);
      // The Secret the overlay expects the operator to create (ferry-secrets), made here under the
      // test's prefix with random values; kustomize leaves references to objects outside the build alone.
      const secretName = `${prefix}ferry-secrets`;
      const b64 = (v: string) => Buffer.from(v).toString('base64');
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName }, type: 'Opaque',
        data: { postgres_password: b64(secret()), redis_password: b64(secret()), ferry_admin_token: b64(`${secret()}${secret()}`) } });
      for (const w of workloads(objects)) {
        for (const v of w.pod.volumes ?? []) if (v.secret?.secretName === 'ferry-secrets') v.secret.secretName = secretName;
        // podman 4.3 publishes every containerPort on all of the host's addresses: the lab drops
        // them (the probes get the numbers) and reaches the pods by their own addresses instead.
        for (const c of w.pod.containers as unknown as Array<{ ports?: Array<{ name?: string; containerPort: number }> } & Record<string, unknown>>) {
          const numbers = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
          for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
            const get = (c[probe] as { httpGet?: { port: unknown } } | undefined)?.httpGet;
            if (get && typeof get.port === 'string') get.port = numbers.get(get.port);
          }
          // podman 4.3 runs an httpGet liveness probe as curl inside the container; Ferry's image
          // has no curl, so there the same endpoint is probed by the image's own health check.
          const live = c.livenessProbe as { httpGet?: { path: string }; exec?: { command: string[] } } | undefined;
          if (c.image === IMAGE && live?.httpGet?.path === '/health/live') {
            delete live.httpGet;
            live.exec = { command: ['node', 'dist/ops/healthcheck.js', 'api', 'live'] };
          }
          delete c.ports;
        }
      }

      // ---- What podman runs, converts, or cannot run: every kind named, none skipped silently ----
      const unknown = [...new Set(objects.map((o) => o.kind))].filter((k) => !KIND_HANDLING[k]);
      expect(unknown).toEqual([]);
      const lines = Object.entries(KIND_HANDLING).map(([kind, h]) => {
        const names = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name.slice(prefix.length));
        return names.length ? `  ${h.how.padEnd(9)} ${kind} (${names.join(', ')}): ${h.note}` : undefined;
      }).filter(Boolean);
      process.stderr.write(`\n[kube-play] what podman kube play does with the trial overlay:\n${lines.join('\n')}\n`
        + '[kube-play] lab adaptations: the Secret ferry-secrets (which an operator creates) is made by the test; pods address each other by pod name (no Services); containerPorts are dropped (podman 4.3 would publish each on all host addresses); nginx.conf and its snippets/ are mounted read-only as one directory made from their ConfigMaps, not as a subPath with a nested mount (podman 4.3 mounts the whole ConfigMap for a subPath and cannot nest a mount point in a read-only volume); PostgreSQL keeps podman\'s /dev/shm and every other emptyDir is a fresh host directory of mode 1777 (podman 4.3 makes emptyDirs root-owned 0755); nginx\'s upstream is the api pod\'s name; '
        + 'nginx\'s certificate is mounted from a ConfigMap because podman 4.3 writes Secret values base64-encoded (Ferry\'s own secrets stay Secrets: '
        + 'both sides of each password read the same file); probes other than liveness are not run by podman 4.3, and its httpGet probes run curl inside the container, which Ferry\'s image lacks: the api\'s liveness probe runs the image\'s health check for /health/live instead.\n\n');

      const kinds = (...k: string[]) => objects.filter((o) => k.includes(o.kind));
      const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `${prefix}${name}`)!;
      // nginx: the api by its pod name; the certificate from the lab's ConfigMap (see above).
      const nginxSpec = workloads([deployment('nginx')])[0]!.pod;
      const nginx = nginxSpec.containers[0]!;
      nginx.env = (nginx.env ?? []).filter((e) => e.name !== 'POD_NAMESPACE').map((e) => (e.name === 'NGINX_API_UPSTREAM' ? { name: e.name, value: `${pod('api')}.dns.podman:8000` } : e));
      // podman 4.3 mounts a subPath of a ConfigMap as the whole directory, and cannot nest the
      // snippets' mount inside the read-only nginx.conf mount (runc cannot make the mount point
      // there): nginx.conf and snippets/, taken from the rendered ConfigMaps, are laid out in one
      // read-only host directory of the test's own, so the relative includes resolve next to it.
      const nginxConfDir = path.join(dir, 'nginx-ferry');
      fs.mkdirSync(path.join(nginxConfDir, 'snippets'), { recursive: true, mode: 0o755 });
      const configMapData = (name: string) => (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}${name}-`)) as unknown as { data: Record<string, string> }).data;
      fs.writeFileSync(path.join(nginxConfDir, 'nginx.conf'), configMapData('ferry-nginx-conf')['nginx.conf']!, { mode: 0o644 });
      for (const [file, text] of Object.entries(configMapData('ferry-nginx-snippets'))) fs.writeFileSync(path.join(nginxConfDir, 'snippets', file), text, { mode: 0o644 });
      fs.chmodSync(nginxConfDir, 0o755);
      const nginxMounts = (nginx as unknown as { volumeMounts: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }> }).volumeMounts;
      for (const m of nginxMounts) {
        if (m.name === 'nginx-conf') { m.mountPath = '/etc/nginx/ferry'; delete m.subPath; }
      }
      (nginx as unknown as { args: string[] }).args = ['nginx', '-c', '/etc/nginx/ferry/nginx.conf', '-g', 'daemon off;'];
      // podman 4.3 mounts an emptyDir over /dev/shm owned by root: PostgreSQL keeps podman's own /dev/shm.
      const pgSpec = workloads([deployment('postgres')])[0]!.pod;
      pgSpec.volumes = (pgSpec.volumes ?? []).filter((v) => v.name !== 'shm');
      const pgMounts = (pgSpec.containers[0] as unknown as { volumeMounts: Array<{ name: string }> });
      pgMounts.volumeMounts = pgMounts.volumeMounts.filter((m) => m.name !== 'shm');
      // podman 4.3 makes an emptyDir root-owned 0755, which a non-root container cannot write:
      // each becomes a fresh host directory of mode 1777 of the test's own (what Kubernetes gives).
      for (const w of workloads(objects)) {
        for (const v of (w.pod.volumes ?? []) as Array<{ name: string; emptyDir?: unknown; hostPath?: unknown }>) {
          if (!v.emptyDir) continue;
          const hostDir = path.join(dir, 'empty', `${w.name.slice(prefix.length)}-${v.name}`);
          fs.mkdirSync(hostDir, { recursive: true });
          fs.chmodSync(hostDir, 0o1777);
          delete v.emptyDir;
          v.hostPath = { path: hostDir, type: 'Directory' };
        }
      }
      const tlsConfigMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}ferry-tls-lab`))!;
      nginxSpec.volumes = (nginxSpec.volumes ?? []).map((v) => (v.name === 'tls' ? { name: 'tls', configMap: { name: tlsConfigMap.metadata.name } } as never
        : v.name === 'nginx-conf' ? { name: v.name, hostPath: { path: nginxConfDir, type: 'Directory' } } as never : v));
      const yaml = (list: K8sObject[]) => list.map((o) => YAML.stringify(o)).join('---\n');
      const play = async (name: string, list: K8sObject[]) => {
        const file = path.join(dir, `${name}.yaml`);
        fs.writeFileSync(file, yaml(list));
        note(`podman kube play ${name}: ${list.filter((o) => o.kind !== 'ConfigMap').map((o) => `${o.kind}/${o.metadata.name.slice(prefix.length)}`).join(', ')}`);
        const r = await podman(['kube', 'play', '--network', network, file], { timeoutMs: 600_000, allowFailure: true });
        if (r.code !== 0) {
          // podman prints its real reason on stderr (often after pages of progress on stdout): show
          // every error line of it first, then the end of each stream.
          const errors = r.stderr.split('\n').filter((l) => /error|fail|invalid|denied|exists|cannot|unable/i.test(l));
          const tail = (s: string) => s.trim().split('\n').slice(-15).join('\n');
          throw new Error(`podman kube play ${name} (${file}) exited ${r.code}\n`
            + `errors on stderr:\n${errors.join('\n') || '(none)'}\nstderr (end):\n${tail(r.stderr)}\nstdout (end):\n${tail(r.stdout)}`);
        }
      };
      const configMaps = kinds('ConfigMap');

      await podman(['network', 'create', network]);
      // 1. Secrets and volumes, then the datastores (each stage waits for the one before, as the
      //    Job and the probes order them on a cluster).
      await play('datastores', [...configMaps, ...kinds('Secret', 'PersistentVolumeClaim'), deployment('postgres'), deployment('redis')]);
      await waitFor(async () => (await podman(['exec', `${pod('postgres')}-postgres`, 'pg_isready', '-q', '-h', '127.0.0.1'], { allowFailure: true })).code === 0,
        300_000, 'PostgreSQL ready (its first start runs initdb)', 1000);
      await waitFor(async () => (await podman(['exec', `${pod('redis')}-redis`, 'sh', '-c', 'REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" redis-cli -h 127.0.0.1 ping'], { allowFailure: true })).stdout.includes('PONG'),
        60_000, 'Redis ready', 1000);
      // 2. The migrate Job, as a Pod.
      const job = kinds('Job')[0]!;
      await play('migrate', [...configMaps, jobAsPod(job)]);
      const migrate = `${job.metadata.name}-migrate`;
      const code = (await podman(['wait', migrate], { timeoutMs: 300_000 })).stdout.trim();
      expect(`migrate exited ${code}`).toBe('migrate exited 0');
      // 3. api, worker, nginx.
      await play('ferry', [...configMaps, deployment('api'), deployment('worker'), deployment('nginx')]);

      // ---- The pods run as the manifests say ----
      for (const [name, user] of [['api', '1000'], ['worker', '1000'], ['nginx', '101'], ['postgres', '999'], ['redis', '999']] as const) {
        const container = `${pod(name)}-${name}`;
        const inspect = JSON.parse((await podman(['inspect', container])).stdout) as Array<{ Config: { User: string }; HostConfig: { ReadonlyRootfs: boolean; CapDrop?: string[]; CapAdd?: string[]; SecurityOpt?: string[] } }>;
        const c = inspect[0]!;
        expect({ container: name, user: c.Config.User.split(':')[0], readOnly: c.HostConfig.ReadonlyRootfs, capAdd: c.HostConfig.CapAdd ?? [], noNewPrivileges: (c.HostConfig.SecurityOpt ?? []).some((o) => /no-new-privileges/.test(o)) })
          .toEqual({ container: name, user, readOnly: true, capAdd: [], noNewPrivileges: true });
      }
      const health = JSON.parse((await podman(['inspect', `${pod('api')}-api`, '--format', '{{json .Config.Healthcheck}}'])).stdout) as { Test?: string[] } | null;
      note(`api liveness probe as podman health check: ${JSON.stringify(health?.Test ?? null)}`);

      // ---- Ferry publishes a product through nginx ----
      const ip = (await podman(['inspect', `${pod('nginx')}-nginx`, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'])).stdout.trim();
      const infraIp = ip || (await podman(['pod', 'inspect', pod('nginx'), '--format', '{{.InfraContainerID}}']).then(async (r) =>
        (await podman(['inspect', r.stdout.trim(), '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'])).stdout.trim()));
      const ca = fs.readFileSync(path.join(dir, 'tls.crt'), 'utf8');
      await waitFor(async () => (await request(infraIp, ca, 'GET', '/health/ready').catch(() => ({ status: 0 }))).status === 200, 240_000, 'the api ready through nginx', 1000);
      // The token exactly as the api reads it from its Secret file.
      const token = (await podman(['exec', `${pod('api')}-api`, 'cat', '/run/secrets/ferry/ferry_admin_token'])).stdout.trim();
      const stageVolume = (await podman(['volume', 'inspect', `${prefix}ferry-stage`, '--format', '{{.Mountpoint}}'])).stdout.trim();
      const productsVolume = (await podman(['volume', 'inspect', `${prefix}ferry-products`, '--format', '{{.Mountpoint}}'])).stdout.trim();
      const data = crypto.randomBytes(256 * 1024);
      const sum = crypto.createHash('sha256').update(data).digest('hex');
      fs.mkdirSync(path.join(stageVolume, 'kube'), { recursive: true });
      fs.writeFileSync(path.join(stageVolume, 'kube', 'first.fits'), data);
      for (const p of [path.join(stageVolume, 'kube'), path.join(stageVolume, 'kube', 'first.fits')]) fs.chownSync(p, 1000, 1000);
      const dataId = `kube-${id}`;
      const registered = await request(infraIp, ca, 'POST', '/api/products', token, { data_id: dataId, data_type: 'image', stage_path: 'kube/first.fits' });
      expect(registered.status).toBe(201);
      const done = await waitFor(async () => {
        const r = await request(infraIp, ca, 'GET', `/api/products/${dataId}`, token);
        if (r.json.status === 'failed') throw new Error(`the product failed: ${JSON.stringify(r.json)}`);
        return r.json.status === 'published' ? r : undefined;
      }, 180_000, 'the product published', 1000);
      expect(done!.json).toMatchObject({ status: 'published', checksum_sha256: sum, destination_path: 'kube/first.fits' });
      const onDisk = crypto.createHash('sha256').update(fs.readFileSync(path.join(productsVolume, 'kube', 'first.fits'))).digest('hex');
      expect(onDisk).toBe(sum);
      note(`published ${dataId} through nginx → api → Redis → worker, ${data.length} bytes, sha256 ${sum.slice(0, 16)}…`);
    }
  });
}
