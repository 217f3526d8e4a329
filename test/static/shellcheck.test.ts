import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/compose';

/** Shell scripts under a directory: *.sh files and extension-less files with a shell shebang. */
function shellScripts(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return shellScripts(p);
    if (e.name.endsWith('.sh')) return [p];
    if (path.extname(e.name) === '' && /^#!.*\b(sh|bash)\b/.test(fs.readFileSync(p, 'utf8').split('\n')[0] ?? '')) return [p];
    return [];
  });
}

const scripts = ['deploy', '.ci', 'monitoring', 'test'].flatMap((dir) => shellScripts(path.join(REPO_ROOT, dir)));

describe('shell scripts', () => {
  it('finds the deploy and CI scripts', () => {
    expect(scripts.map((s) => path.relative(REPO_ROOT, s))).toEqual(expect.arrayContaining(['deploy/up.sh', 'deploy/preflight.sh', 'deploy/generate-secrets.sh', 'deploy/generate-cert.sh', '.ci/run']));
  });

  it.each(scripts.map((s) => [path.relative(REPO_ROOT, s)]))('%s passes shellcheck', (rel) => {
    const r = spawnSync('shellcheck', ['-x', '--severity=info', rel], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  // Sourced libraries (no shebang, `# shellcheck shell=sh` first) are not run on their own.
  const runnable = (s: string) => !/^# shellcheck shell=/.test(fs.readFileSync(s, 'utf8'));
  it.each(scripts.filter((s) => s.includes(`${path.sep}deploy${path.sep}`) && runnable(s)).map((s) => [path.relative(REPO_ROOT, s)]))('%s starts with set -eu and answers --help', (rel) => {
    const text = fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
    expect(text).toMatch(/^set -eu/m);
    const shell = /^#!.*\bbash\b/.test(text) ? 'bash' : 'sh';
    const r = spawnSync(shell, [rel, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
  });

  it('reports a script shellcheck rejects (the check can fail)', () => {
    const r = spawnSync('shellcheck', ['-'], { input: '#!/bin/sh\necho $1\n', encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });
});
