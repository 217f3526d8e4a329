import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPTS = ['deploy/backup.sh', 'deploy/restore.sh', 'deploy/upgrade.sh', 'test/e2e/fixtures/fake-docker.sh'];

// shellcheck itself runs on every script in test/static/shellcheck.test.ts.
describe('backup, restore and upgrade shell scripts', () => {
  it.each(SCRIPTS)('%s is executable and stops on the first error or unset variable', (script) => {
    const file = path.join(ROOT, script);
    expect(fs.statSync(file).mode & 0o111).not.toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toMatch(/^set -eu$/m);
  });

  it.each(SCRIPTS.filter((s) => s.startsWith('deploy/')))('%s prints usage for --help without needing a build', (script) => {
    const res = spawnSync(path.join(ROOT, script), ['--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', FERRY_NODE: 'no-such-node' } });
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^Usage: /);
  });
});
