import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';

const LOCK_FILE = path.join(os.tmpdir(), 'ferry-container-lab.lock');

/**
 * Holds the container lab for one stack test file at a time; resolves once it is held, with the
 * function that lets it go. `podman kube play` creates networks and reloads podman's DNS while a
 * compose stack's services reach one another by name: run side by side, the compose stack's new
 * PostgreSQL connections timed out for 20 s and its api answered 503. flock(1) holds the lock for
 * a shell that exits when this process's end of its stdin closes, so a test process that dies
 * never leaves the lock held.
 */
export async function holdContainerLab(): Promise<() => Promise<void>> {
  const holder = spawn('flock', [LOCK_FILE, 'sh', '-c', 'echo held; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(holder, 'exit');
  await Promise.race([
    once(holder.stdout, 'data'),
    exited.then(([code]) => {
      throw new Error(`flock ${LOCK_FILE} exited with ${String(code)} before holding the lock`);
    }),
  ]);
  return async () => {
    holder.stdin.end();
    await exited;
  };
}
