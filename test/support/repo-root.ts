import fs from 'node:fs';
import path from 'node:path';

/** The nearest folder above `from` holding Ferry's package.json: the same answer from the sources and from compiled benchmarks. */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ferry') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Ferry package.json above ${from}`);
  }
}

/** The repository root: dist/, deploy/, nginx/ and the compose files live here. */
export const REPO_ROOT = findRepoRoot(__dirname);
