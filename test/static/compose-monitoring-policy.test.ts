import path from 'node:path';
import { checkComposePolicy } from '../support/compose-policy';
import { loadCompose, readEnvFile, REPO_ROOT } from '../support/compose';

// The same hardening policy as docker-compose.prod.yml, applied to the monitoring profile. Each
// waiver is a need of the exporter itself, stated here so a new one cannot slip in unnoticed.
const doc = loadCompose(path.join(REPO_ROOT, 'docker-compose.monitoring.yml'));
const env = readEnvFile(path.join(REPO_ROOT, '.env.production.example'));

describe('docker-compose.monitoring.yml against the compose policy', () => {
  it('meets the policy, with only the exporters\' documented needs waived', () => {
    const violations = checkComposePolicy(doc, {
      env,
      // Admin interfaces, published on 127.0.0.1 only (checked below); reached through an SSH tunnel.
      publish: { prometheus: [9090], alertmanager: [9093], grafana: [3000] },
      waive: {
        // Host metrics: the host's process table and its root file system, read-only.
        'node-exporter': ['host-namespace', 'sensitive-host-path'],
        // Container metrics: cgroups, the engine's state and disks, read-only.
        cadvisor: ['sensitive-host-path'],
        // A scratch image with no shell or client to probe itself; Prometheus' up{} watches it.
        'nginx-exporter': ['healthcheck'],
      },
    });
    expect(violations).toEqual([]);
  });

  it('publishes the admin interfaces on the loopback address only', () => {
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const p of (svc.ports as string[] | undefined) ?? []) expect(`${name} ${p}`).toMatch(new RegExp(`^${name} 127\\.0\\.0\\.1:`));
    }
  });

  it('never waives the rules that would hand the host over: privileged, Docker socket, cap_add', () => {
    const found = checkComposePolicy(doc, { env, publish: { prometheus: [9090], alertmanager: [9093], grafana: [3000] } });
    expect(found.filter((v) => ['privileged', 'docker-socket', 'cap-add', 'secret-literal'].includes(v.rule))).toEqual([]);
  });
});
