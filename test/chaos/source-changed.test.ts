import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  assertChaosInvariants, eventLogProblems, registerViaApi, startChaosApi, startChaosWorker, type ChaosApi, type ChaosProduct, type ChaosTarget,
} from '../support/chaos';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestRoots, type TestRoots } from '../support/dirs';
import { listTree, productRow, sha256 } from '../support/publish-fixtures';
import { deleteRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from '../support/redis';
import { waitFor } from '../support/wait-for';
import { killWorker, type WorkerProcess } from '../support/worker-process';
import type { ProductEventRow } from '../../services/core/repositories/product.types';

jest.setTimeout(180000);

const SIZE = 2 * 1024 * 1024;

// The worker's bandwidth limit (PUBLISH_MAX_BYTES_PER_SEC) stretches each copy to about
// two seconds, so the test can rewrite the source while its bytes are in the temporary area.
describe('chaos: a source file changed during its copy', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let prefix: string;
  let api: ChaosApi | undefined;
  let worker: WorkerProcess | undefined;
  let stopHashing: (() => Promise<string[]>) | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    roots = await createTestRoots();
    prefix = testRedisPrefix();
    const target: ChaosTarget = { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix, roots };
    api = await startChaosApi(target, 'api');
    worker = await startChaosWorker(target, 'worker', { PUBLISH_CONCURRENCY: '1', PUBLISH_MAX_BYTES_PER_SEC: String(1024 * 1024) });
  });
  afterAll(async () => {
    await stopHashing?.();
    await killWorker(worker);
    await api?.stop();
    await deleteRedisPrefix(prefix);
    await db?.drop();
    await roots?.cleanup();
  });

  /** Writes the source, registers it, and rewrites it in place (same size, new bytes) once its copy is under way. */
  async function changeMidCopy(name: string, expectOld: boolean): Promise<{ product: ChaosProduct; oldSha: string; final: string }> {
    const rel = `changing/${name}.fits`;
    const source = path.join(roots.stageRoot, rel);
    await fs.mkdir(path.dirname(source), { recursive: true });
    const before = crypto.randomBytes(SIZE);
    const after = crypto.randomBytes(SIZE);
    await fs.writeFile(source, before);
    const product: ChaosProduct = { dataId: name, rel, size: SIZE, sha256: sha256(after) };
    // Hash whatever appears at the final path while this runs: only the new content may ever show.
    const final = path.join(roots.productsRoot, rel);
    const seen = new Set<string>();
    let hashing = true;
    const look = async () => {
      const data = await fs.readFile(final).catch(() => undefined);
      if (data) seen.add(sha256(data));
    };
    const loop = (async () => {
      while (hashing) {
        await look();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // One last look after the loop ends, so the state the caller waited for is always seen.
    stopHashing = async () => {
      hashing = false;
      await loop;
      await look();
      return [...seen];
    };
    await registerViaApi(api!.base, product, expectOld ? { expected_sha256: sha256(before) } : {});
    const temp = path.join(roots.productsRoot, '.ferry-tmp');
    await waitFor(async () => {
      for (const f of (await listTree(temp)).filter((x) => x.endsWith(`${name}.fits`))) {
        const st = await fs.stat(path.join(temp, f)).catch(() => undefined);
        if (st && st.size > 0 && st.size < SIZE / 2) return true;
      }
      return false;
    }, 20000, 'the copy to be under way', 10);
    const fh = await fs.open(source, 'r+');
    try {
      await fh.write(after, 0, SIZE, 0);
    } finally {
      await fh.close();
    }
    return { product, oldSha: sha256(before), final };
  }

  const events = async (dataId: string) => (await db.pool.query<ProductEventRow>('SELECT * FROM product_events WHERE data_id = $1 ORDER BY id', [dataId])).rows;

  it('detects the change, never publishes the mixed bytes, and publishes the new content on the next attempt', async () => {
    const { product, oldSha } = await changeMidCopy('rewritten', false);
    await waitFor(async () => (await productRow(db.pool, 'rewritten')).status === 'published', 60000, 'the product published', 100);
    const seen = await stopHashing!();

    const ev = await events('rewritten');
    expect(ev.map((e) => `${e.event}:${e.error_class ?? ''}`)).toEqual(expect.arrayContaining(['retry_scheduled:source_changed']));
    expect(ev.filter((e) => e.event === 'published')).toHaveLength(1);
    const row = await productRow(db.pool, 'rewritten');
    expect(row.checksum_sha256).toBe(product.sha256);
    expect(row.checksum_sha256).not.toBe(oldSha);
    expect(seen).toEqual([product.sha256]);
    await assertChaosInvariants(db.pool, roots.productsRoot, [product]);
  });

  it('with the producer\'s checksum of the old content, fails checksum_mismatch on the next attempt and publishes nothing', async () => {
    const { final } = await changeMidCopy('promised', true);
    await waitFor(async () => (await productRow(db.pool, 'promised')).status === 'failed', 60000, 'the product failed', 100);
    const seen = await stopHashing!();

    const row = await productRow(db.pool, 'promised');
    expect(row).toMatchObject({ status: 'failed', error_class: 'checksum_mismatch', published_path: null, checksum_sha256: null });
    const ev = await events('promised');
    expect(ev.map((e) => `${e.event}:${e.error_class ?? ''}`)).toEqual(['registered:', 'claimed:', 'retry_scheduled:source_changed', 'claimed:', 'failed:checksum_mismatch']);
    expect(eventLogProblems('promised', ev, false)).toEqual([]);
    expect(seen).toEqual([]);
    await expect(fs.access(final)).rejects.toThrow();
    expect(await listTree(path.join(roots.productsRoot, '.ferry-tmp'))).toEqual([]);
    // The source stays for the operator (move mode removes it only after a publish).
    expect((await fs.stat(path.join(roots.stageRoot, 'changing/promised.fits'))).size).toBe(SIZE);
  });
});
