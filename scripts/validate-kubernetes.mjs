#!/usr/bin/env node
// Validates rendered Kubernetes objects offline against the API schemas bundled in the
// kubernetes-models packages (core API and the Prometheus Operator's CRDs): every object of a
// kind with no bundled schema is an error too, never skipped.
//   kubectl kustomize deploy/kubernetes/overlays/trial | node scripts/validate-kubernetes.mjs
// Prints {"objects": N, "kinds": {...}, "errors": [...]} and exits 1 when an error was found.
import fs from 'node:fs';
import YAML from 'yaml';

if (process.argv.includes('--help')) {
  process.stdout.write('usage: kubectl kustomize DIR | node scripts/validate-kubernetes.mjs [FILE]\n');
  process.exit(0);
}

/** The module that holds the model of apiVersion/kind. */
function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

const input = fs.readFileSync(process.argv[2] ?? 0, 'utf8');
const docs = YAML.parseAllDocuments(input).map((d) => d.toJS()).filter((d) => d !== null);
const kinds = {};
const errors = [];
for (const obj of docs) {
  const id = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    errors.push({ object: id, error: 'no apiVersion or kind' });
    continue;
  }
  kinds[`${obj.apiVersion} ${obj.kind}`] = (kinds[`${obj.apiVersion} ${obj.kind}`] ?? 0) + 1;
  let Model;
  try {
    Model = (await import(modelModule(obj.apiVersion, obj.kind)))[obj.kind];
  } catch {
    errors.push({ object: id, error: `no schema bundled for ${obj.apiVersion} ${obj.kind}` });
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (err) {
    errors.push({ object: id, error: err.message });
  }
}
process.stdout.write(`${JSON.stringify({ objects: docs.length, kinds, errors }, null, 2)}\n`);
process.exit(errors.length > 0 ? 1 : 0);
