import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Programs a host with only Docker and a POSIX shell does not have. */
const NODE_PROGRAMS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack', 'yarn', 'pnpm']);

/**
 * A PATH for "a server with only Docker": one directory of links to every program on the given
 * PATH except Node and its package managers. Fails if `node` can still be found through it.
 */
export function pathWithoutNode(dir: string, fromPath: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const d of fromPath.split(':').filter((p) => p && path.isAbsolute(p))) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(dir, name);
      if (NODE_PROGRAMS.has(name) || fs.existsSync(link)) continue;
      try {
        fs.accessSync(path.join(d, name), fs.constants.X_OK);
        if (!fs.statSync(path.join(d, name)).isFile()) continue;
      } catch {
        continue;
      }
      fs.symlinkSync(path.join(d, name), link);
    }
  }
  const found = execFileSync('/bin/sh', ['-c', 'command -v node || true'], { env: { PATH: dir } }).toString().trim();
  if (found) throw new Error(`node is still on the Docker-only PATH: ${found}`);
  return dir;
}
