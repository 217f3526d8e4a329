import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

// The test side of the worker's PUBLISH_TEST_HOOK_DIR pauses (services/worker/test-hook.ts).

/** Arms a pause: the worker stops at `point` of the next attempt on dataId until released. */
export async function armHook(dir: string, point: string, dataId: string): Promise<void> {
  await fs.writeFile(path.join(dir, `${point}.${dataId}.armed`), '');
}

/** Resolves when the worker has reached an armed pause (watching the folder; bounded). */
export function hookReached(dir: string, point: string, dataId: string, timeoutMs = 60000): Promise<void> {
  const name = `${point}.${dataId}.reached`;
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, (_e, f) => {
      if (f === name) check();
    });
    const timer = setTimeout(() => done(new Error(`the worker did not reach ${point} for ${dataId} within ${timeoutMs} ms`)), timeoutMs);
    function done(err?: Error) {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    }
    function check() {
      fs.access(path.join(dir, name)).then(() => done(), () => undefined);
    }
    check();
  });
}

/** Lets a paused worker go on. */
export async function releaseHook(dir: string, point: string, dataId: string): Promise<void> {
  await fs.writeFile(path.join(dir, `${point}.${dataId}.go`), '');
}

/** Every entry under root with its type, mode, size, mtime and content hash: equal snapshots mean nothing was touched. */
export async function treeSnapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const crypto = await import('node:crypto');
  async function walk(dir: string, rel: string) {
    for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await fs.lstat(p);
      const digest = e.isFile() ? crypto.createHash('sha256').update(await fs.readFile(p)).digest('hex') : '';
      out[r] = `${e.isDirectory() ? 'd' : e.isFile() ? 'f' : 'o'} ${(st.mode & 0o7777).toString(8)} ${st.size} ${st.mtimeMs} ${digest}`;
      if (e.isDirectory()) await walk(p, r);
    }
  }
  await walk(root, '');
  return out;
}

/** Records every change the kernel reports anywhere under root (inotify through fs.watch). */
export function recordChanges(root: string): { events: string[]; stop(): void } {
  const events: string[] = [];
  const watcher = watch(root, { recursive: true }, (type, name) => events.push(`${type} ${String(name)}`));
  return { events, stop: () => watcher.close() };
}

/** True when a stored text names an absolute path (a server path). */
export function namesAbsolutePath(text: string | null | undefined): boolean {
  return !!text && /(^|[\s'"`(=,:;[])\//.test(text);
}
