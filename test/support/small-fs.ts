import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A size-limited file system mounted on a test's directory. */
export interface SmallFs {
  kind: 'tmpfs' | 'ext4-loop';
  /** Unmounts (lazily if still busy) and removes the loop image; idempotent. */
  unmount(): Promise<void>;
}

/**
 * Mounts a file system of `sizeMiB` on dir (which must exist and be empty): tmpfs, or when tmpfs
 * cannot be mounted, an ext4 image on a loop device next to dir. Both need root; the caller checks
 * process.getuid() first.
 */
export async function mountSmallFs(dir: string, sizeMiB: number): Promise<SmallFs> {
  let mounted = true;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
    return {
      kind: 'tmpfs',
      async unmount() {
        if (!mounted) return;
        mounted = false;
        await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      },
    };
  } catch (tmpfsErr) {
    const image = path.join(path.dirname(dir), `${path.basename(dir)}.ext4`);
    try {
      await run('truncate', ['-s', `${sizeMiB}M`, image]);
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      await run('mount', ['-o', 'loop', image, dir]);
      // A fresh ext4 has lost+found; a test root must start empty.
      await fs.rm(path.join(dir, 'lost+found'), { recursive: true, force: true });
    } catch (loopErr) {
      await fs.rm(image, { force: true });
      throw new Error(`cannot mount a small file system on ${dir}: tmpfs: ${(tmpfsErr as Error).message}; loop: ${(loopErr as Error).message}`);
    }
    return {
      kind: 'ext4-loop',
      async unmount() {
        if (!mounted) return;
        mounted = false;
        await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
        await fs.rm(image, { force: true });
      },
    };
  }
}
