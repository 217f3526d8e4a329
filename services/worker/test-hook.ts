import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestHookPoint } from '../core/domain/publishing/publish-product';

/** How long an armed pause waits for the test's go-ahead before the attempt fails. */
const WAIT_MS = 60000;

/**
 * Test-only pauses (PUBLISH_TEST_HOOK_DIR, refused in production): a test arms one by creating
 * `<point>.<data_id>.armed`; the worker consumes it when the attempt reaches that moment, creates
 * `<point>.<data_id>.reached`, and waits (on a directory watch, bounded) for `<point>.<data_id>.go`.
 * An attack can thus be timed to the exact step it targets.
 */
export function fileTestHook(dir: string): (point: TestHookPoint, dataId: string) => Promise<void> {
  return async (point, dataId) => {
    const base = path.join(dir, `${point}.${dataId}`);
    try {
      await fs.unlink(`${base}.armed`);
    } catch {
      return;
    }
    const go = `${base}.go`;
    const goName = path.basename(go);
    await new Promise<void>((resolve, reject) => {
      const watcher = watch(dir, (_event, name) => {
        if (name === goName) check();
      });
      const timer = setTimeout(() => finish(new Error(`test hook ${point} for ${dataId}: no go-ahead within ${WAIT_MS} ms`)), WAIT_MS);
      function finish(err?: Error) {
        clearTimeout(timer);
        watcher.close();
        if (err) reject(err);
        else resolve();
      }
      function check() {
        fs.access(go).then(() => finish(), () => undefined);
      }
      // The watch is in place before the test learns the point was reached, so its go is never missed.
      fs.writeFile(`${base}.reached`, '').then(check, (err: Error) => finish(err));
    });
  };
}
