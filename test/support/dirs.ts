import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TestRoots {
  base: string;
  stageRoot: string;
  productsRoot: string;
  cleanup(): Promise<void>;
}

/** A temporary stage root and products root on the same file system, removed by cleanup(). */
export async function createTestRoots(): Promise<TestRoots> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-test-'));
  const stageRoot = path.join(base, 'stage');
  const productsRoot = path.join(base, 'products');
  await fs.mkdir(stageRoot);
  await fs.mkdir(productsRoot);
  return { base, stageRoot, productsRoot, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

/** Writes a file (creating parents) under a root and returns its path. */
export async function writeFile(root: string, rel: string, content: string | Buffer): Promise<string> {
  const p = path.join(root, rel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, content);
  return p;
}
