import fs from 'node:fs/promises';
import path from 'node:path';
import { eventNames, listTree, productRow, sha256, stageProduct } from '../../../../test/support/publish-fixtures';
import { usePublishingTest } from '../../../../test/support/publishing-test';
import { waitFor } from '../../../../test/support/wait-for';
import { LeaseLostError } from '../../errors/publish-error';
import { directoryDigest } from '../../publish/manifest';
import { tempRoot } from '../../publish/temp-area';
import { claimProduct, LEASED_RECHECK_MS } from './claim-product';
import { commitPublish } from './commit-publish';
import { BandwidthLimiter } from '../../../worker/bandwidth-limiter';
import { publishProduct } from './publish-product';
import { reclaimExpiredLeases } from './reclaim-expired-leases';
import { recordFailure } from './record-failure';
import { PublishError } from '../../errors/publish-error';
import { deletePause, insertPause } from '../../repositories/publishing-control.repository';

jest.setTimeout(30000);

describe('publishProduct', () => {
  const fx = usePublishingTest();
  const tempEntries = () => listTree(tempRoot(fx.roots.productsRoot));

  it('publishes a file product in move mode and removes the source after the commit', async () => {
    const mtime = new Date('2024-03-01T12:00:00Z');
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'obs1/img.fits', 'pixels', { dataId: 'f-move' });
    const src = path.join(fx.roots.stageRoot, 'obs1/img.fits');
    await fs.chmod(src, 0o640);
    await fs.utimes(src, mtime, mtime);

    const result = await publishProduct(fx.deps({ PUBLISH_MODE: 'move' }), 'f-move');

    expect(result.outcome).toBe('published');
    const final = path.join(fx.roots.productsRoot, 'obs1/img.fits');
    expect(await fs.readFile(final, 'utf8')).toBe('pixels');
    const st = await fs.stat(final);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.mtime.getTime()).toBe(mtime.getTime());
    await expect(fs.access(src)).rejects.toThrow();
    const row = await productRow(fx.db.pool, 'f-move');
    expect(row).toMatchObject({ status: 'published', published_path: 'obs1/img.fits', size_bytes: 6, file_count: 1, checksum_sha256: sha256('pixels'), lease_token: null, next_attempt_at: null });
    expect(await eventNames(fx.db.pool, 'f-move')).toEqual(['claimed', 'published', 'source_removed']);
    expect(await tempEntries()).toEqual([]);
  });

  it('publishes a directory product in copy mode with its manifest, modes and mtimes, keeping the source', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'ms/obs2.ms', { 'table.dat': 'abc', 'sub/x.bin': Buffer.alloc(3000, 7), 'sub/deeper/y': '' }, { dataId: 'd-copy' });
    const subdir = path.join(fx.roots.stageRoot, 'ms/obs2.ms/sub');
    const old = new Date('2023-01-02T03:04:05Z');
    await fs.chmod(subdir, 0o750);
    await fs.utimes(subdir, old, old);

    const result = await publishProduct(fx.deps({ PUBLISH_MODE: 'copy' }), 'd-copy');

    expect(result.outcome).toBe('published');
    const final = path.join(fx.roots.productsRoot, 'ms/obs2.ms');
    expect(await listTree(final)).toEqual(['sub', 'sub/deeper', 'sub/deeper/y', 'sub/x.bin', 'table.dat']);
    const st = await fs.stat(path.join(final, 'sub'));
    expect(st.mode & 0o777).toBe(0o750);
    expect(st.mtime.getTime()).toBe(old.getTime());
    const manifest = [
      { path: 'sub/deeper/y', size: 0, sha256: sha256('') },
      { path: 'sub/x.bin', size: 3000, sha256: sha256(Buffer.alloc(3000, 7)) },
      { path: 'table.dat', size: 3, sha256: sha256('abc') },
    ];
    const row = await productRow(fx.db.pool, 'd-copy');
    expect(row).toMatchObject({ status: 'published', size_bytes: 3003, file_count: 3, manifest, checksum_sha256: directoryDigest(manifest) });
    // The documented format, recomputed by hand.
    expect(row.checksum_sha256).toBe(sha256(manifest.map((m) => `${m.sha256} ${m.size} ${m.path}\n`).join('')));
    expect(await listTree(path.join(fx.roots.stageRoot, 'ms/obs2.ms'))).toHaveLength(5);
    expect(await eventNames(fx.db.pool, 'd-copy')).toEqual(['claimed', 'published']);
    expect(await tempEntries()).toEqual([]);
  });

  it('publishes when the expected checksum matches', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'ok.fits', 'good bytes', { dataId: 'sum-ok', expectedSha256: sha256('good bytes') });
    expect((await publishProduct(fx.deps(), 'sum-ok')).outcome).toBe('published');
    expect((await productRow(fx.db.pool, 'sum-ok')).status).toBe('published');
  });

  it('fails at once and publishes nothing when the expected checksum does not match', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'bad.fits', 'other bytes', { dataId: 'sum-bad', expectedSha256: sha256('good bytes') });
    const result = await publishProduct(fx.deps(), 'sum-bad');
    expect(result).toMatchObject({ outcome: 'failed', error: { errorClass: 'checksum_mismatch' } });
    expect(await listTree(fx.roots.productsRoot)).toEqual(['.ferry-tmp']);
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 'bad.fits'), 'utf8')).toBe('other bytes');
    expect(await productRow(fx.db.pool, 'sum-bad')).toMatchObject({ status: 'failed', error_class: 'checksum_mismatch', publish_attempts: 1 });
    expect(await eventNames(fx.db.pool, 'sum-bad')).toEqual(['claimed', 'failed']);
  });

  it('fails with conflict and leaves a different existing product untouched', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'c/clash.fits', 'new bytes', { dataId: 'clash' });
    await fs.mkdir(path.join(fx.roots.productsRoot, 'c'));
    await fs.writeFile(path.join(fx.roots.productsRoot, 'c/clash.fits'), 'old bytes');
    const result = await publishProduct(fx.deps(), 'clash');
    expect(result).toMatchObject({ outcome: 'failed', error: { errorClass: 'conflict' } });
    expect(await fs.readFile(path.join(fx.roots.productsRoot, 'c/clash.fits'), 'utf8')).toBe('old bytes');
    expect(await listTree(path.join(fx.roots.productsRoot, 'c'))).toEqual(['clash.fits']);
    expect(await productRow(fx.db.pool, 'clash')).toMatchObject({ status: 'failed', error_class: 'conflict' });
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 'c/clash.fits'), 'utf8')).toBe('new bytes');
  });

  it('completes as success when the destination already holds the identical product', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'same.ms', { a: '1', 'b/c': '2' }, { dataId: 'same' });
    await fs.cp(path.join(fx.roots.stageRoot, 'same.ms'), path.join(fx.roots.productsRoot, 'same.ms'), { recursive: true });
    const result = await publishProduct(fx.deps({ PUBLISH_MODE: 'move' }), 'same');
    expect(result).toMatchObject({ outcome: 'published', reusedExisting: true });
    expect(await listTree(path.join(fx.roots.productsRoot, 'same.ms'))).toEqual(['a', 'b', 'b/c']);
    expect((await productRow(fx.db.pool, 'same')).status).toBe('published');
    await expect(fs.access(path.join(fx.roots.stageRoot, 'same.ms'))).rejects.toThrow();
    expect(await tempEntries()).toEqual([]);
  });

  it('aborts as retryable when the source changes during the copy', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'growing.fits', Buffer.alloc(1024 * 1024, 1), { dataId: 'growing' });
    const limiter = new BandwidthLimiter(1024 * 1024);
    const running = publishProduct(fx.deps(), 'growing', { pace: (n, signal) => limiter.take(n, signal), chunkBytes: () => limiter.chunkBytes() });
    await waitFor(async () => (await tempEntries()).some((e) => e.endsWith('growing.fits')), 5000, 'the copy to start');
    await fs.appendFile(path.join(fx.roots.stageRoot, 'growing.fits'), 'more');
    const result = await running;
    expect(result).toMatchObject({ outcome: 'retry', error: { errorClass: 'source_changed' } });
    expect(await listTree(fx.roots.productsRoot)).toEqual(['.ferry-tmp']);
    const row = await productRow(fx.db.pool, 'growing');
    expect(row).toMatchObject({ status: 'staging', error_class: 'source_changed', lease_token: null });
    expect(await eventNames(fx.db.pool, 'growing')).toEqual(['claimed', 'retry_scheduled']);
  });

  it('refuses a directory product holding a symlink', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'linked.ms', { real: 'data' }, { dataId: 'linked' });
    await fs.symlink('/etc/passwd', path.join(fx.roots.stageRoot, 'linked.ms/escape'));
    const result = await publishProduct(fx.deps(), 'linked');
    expect(result).toMatchObject({ outcome: 'failed', error: { errorClass: 'unsupported_file_type' } });
    expect(await listTree(fx.roots.productsRoot)).toEqual([]);
    expect(await productRow(fx.db.pool, 'linked')).toMatchObject({ status: 'failed', error_class: 'unsupported_file_type' });
  });

  it('schedules a retry without copying when there is not enough free space', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'big.fits', 'x', { dataId: 'nospace' });
    const result = await publishProduct(fx.deps({ PUBLISH_FREE_SPACE_MARGIN_MB: '10000000', PUBLISH_BACKOFF_BASE_SECONDS: '30' }), 'nospace');
    expect(result).toMatchObject({ outcome: 'retry', error: { errorClass: 'no_space' } });
    const row = await productRow(fx.db.pool, 'nospace');
    expect(row).toMatchObject({ status: 'staging', error_class: 'no_space', publish_attempts: 1 });
    // Backoff with jitter: between half and all of 30 s from now.
    const delay = row.next_attempt_at!.getTime() - Date.now();
    expect(delay).toBeGreaterThan(13000);
    expect(delay).toBeLessThanOrEqual(30000);
    expect(await listTree(fx.roots.productsRoot)).toEqual([]);
  });

  it('fails a product whose source is missing at once', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'gone.fits', 'x', { dataId: 'gone' });
    await fs.rm(path.join(fx.roots.stageRoot, 'gone.fits'));
    expect(await publishProduct(fx.deps(), 'gone')).toMatchObject({ outcome: 'failed', error: { errorClass: 'source_missing' } });
  });

  it('finishes an interrupted source removal later without publishing again', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'half/done.fits', 'bytes', { dataId: 'half' });
    // The trash directory cannot be created: the removal after the commit fails, like a crash there.
    await fs.writeFile(path.join(fx.roots.stageRoot, '.ferry-tmp'), 'in the way');
    const warnings: string[] = [];
    const first = await publishProduct(fx.deps({ PUBLISH_MODE: 'move' }), 'half', { onWarning: (m) => warnings.push(m) });
    expect(first.outcome).toBe('published');
    expect(warnings).toEqual([expect.stringMatching(/source removal failed/)]);
    expect((await productRow(fx.db.pool, 'half')).next_attempt_at).not.toBeNull();
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 'half/done.fits'), 'utf8')).toBe('bytes');

    await fs.rm(path.join(fx.roots.stageRoot, '.ferry-tmp'));
    const again = await publishProduct(fx.deps({ PUBLISH_MODE: 'move' }), 'half');
    expect(again.outcome).toBe('already_published');
    await expect(fs.access(path.join(fx.roots.stageRoot, 'half/done.fits'))).rejects.toThrow();
    expect(await productRow(fx.db.pool, 'half')).toMatchObject({ status: 'published', next_attempt_at: null, publish_attempts: 1 });
    expect(await eventNames(fx.db.pool, 'half')).toEqual(['claimed', 'published', 'source_removed']);
  });

  it('reclaims expired leases, removing the dead worker\'s temporary copy, and fails a product out of attempts', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'dead1.fits', 'x', { dataId: 'dead1' });
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'dead2.fits', 'y', { dataId: 'dead2' });
    const d = fx.deps({ PUBLISH_MAX_ATTEMPTS: '2' });
    const c1 = await claimProduct(d, 'dead1');
    await fx.db.pool.query(`UPDATE products SET publish_attempts = 1 WHERE data_id = 'dead2'`);
    const c2 = await claimProduct(d, 'dead2');
    if (c1.outcome !== 'claimed' || c2.outcome !== 'claimed') throw new Error('expected claims');
    await fs.mkdir(path.join(tempRoot(fx.roots.productsRoot), c1.token), { recursive: true });
    await fs.writeFile(path.join(fx.roots.productsRoot, '.ferry-tmp', c1.token, 'dead1.fits'), 'partial');
    await fx.db.pool.query(`UPDATE products SET lease_expires_at = now() - interval '1 second' WHERE data_id IN ('dead1', 'dead2')`);

    const reclaimed = await reclaimExpiredLeases(d);

    expect(reclaimed.map((r) => r.dataId).sort()).toEqual(['dead1', 'dead2']);
    expect(await tempEntries()).toEqual([]);
    expect(await productRow(fx.db.pool, 'dead1')).toMatchObject({ status: 'staging', lease_token: null, error_class: 'lease_expired', publish_attempts: 1 });
    expect(await productRow(fx.db.pool, 'dead2')).toMatchObject({ status: 'failed', error_class: 'lease_expired', publish_attempts: 2 });
    expect(await eventNames(fx.db.pool, 'dead1')).toEqual(['claimed', 'lease_reclaimed']);
    expect(await eventNames(fx.db.pool, 'dead2')).toEqual(['claimed', 'failed']);
    expect(await reclaimExpiredLeases(d)).toEqual([]);
  });

  it('fails at once a product whose path escapes the stage root', async () => {
    await fx.db.pool.query(
      `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, due_at) VALUES ('escape', 'image', '../x.fits', '../x.fits', 'file', now())`,
    );
    expect(await publishProduct(fx.deps(), 'escape')).toMatchObject({ outcome: 'failed', error: { errorClass: 'path_invalid' } });
    expect(await listTree(fx.roots.base)).toEqual(['products', 'stage']);
  });

  it('lets exactly one of two concurrent claims win', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'race.fits', 'x', { dataId: 'race' });
    const d = fx.deps();
    const results = await Promise.all([claimProduct(d, 'race'), claimProduct(d, 'race')]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['claimed', 'not_due']);
  });

  it('has a claim that meets a live lease look again within seconds, not at the lease expiry', async () => {
    // A group leases its members while their own jobs run: those jobs must not wait out the lease.
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'leased.fits', 'x', { dataId: 'leased' });
    const d = fx.deps();
    expect((await claimProduct(d, 'leased')).outcome).toBe('claimed');
    const now = new Date();
    // The default lease: a minute.
    await fx.db.pool.query(`UPDATE products SET lease_expires_at = $1 WHERE data_id = 'leased'`, [new Date(now.getTime() + 60_000)]);
    const again = await claimProduct(d, 'leased', now);
    expect(again.outcome === 'not_due' && again.until.getTime()).toBe(now.getTime() + LEASED_RECHECK_MS);
    // A lease about to end is looked at when it ends.
    await fx.db.pool.query(`UPDATE products SET lease_expires_at = $1 WHERE data_id = 'leased'`, [new Date(now.getTime() + 500)]);
    const soon = await claimProduct(d, 'leased', now);
    expect(soon.outcome === 'not_due' && soon.until.getTime()).toBe(now.getTime() + 500);
  });

  it('stops a stalled worker whose lease expired from committing after another worker finished', async () => {
    await stageProduct(fx.db.pool, fx.roots.stageRoot, 'stall.fits', 'payload', { dataId: 'stall' });
    const stalled = await claimProduct(fx.deps({ FERRY_INSTANCE: 'stalled' }), 'stall');
    if (stalled.outcome !== 'claimed') throw new Error('expected a claim');
    // The stalled worker's lease runs out while it sleeps.
    await fx.db.pool.query(`UPDATE products SET lease_expires_at = now() - interval '1 second' WHERE data_id = 'stall'`);
    const other = await publishProduct(fx.deps({ FERRY_INSTANCE: 'healthy', PUBLISH_MODE: 'copy' }), 'stall');
    expect(other).toMatchObject({ outcome: 'published', reclaimed: true });

    const lease = { productId: stalled.product.id, dataId: 'stall', token: stalled.token, attempt: 1 };
    await expect(commitPublish(fx.deps(), lease, {
      published_path: 'stall.fits', size_bytes: 1, file_count: 1, checksum_sha256: sha256('wrong'), manifest: null, source_cleanup_pending: false,
    }, 1)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await recordFailure(fx.deps(), lease, new PublishError('io_error', 'late failure'))).toEqual({ outcome: 'lease_lost' });

    const row = await productRow(fx.db.pool, 'stall');
    expect(row).toMatchObject({ status: 'published', checksum_sha256: sha256('payload'), publish_attempts: 2 });
    expect(await eventNames(fx.db.pool, 'stall')).toEqual(['claimed', 'lease_reclaimed', 'claimed', 'published']);
  });

  describe('a pause in the claim statement', () => {
    const pause = (scope: string) => insertPause(fx.db.pool, { scope, actor: 'test', reason: 'maintenance' });
    afterEach(() => fx.db.pool.query('DELETE FROM publishing_pauses'));

    it('refuses a claim once a pause of the whole service is committed: paused, nothing written; a resume lets it claim', async () => {
      await stageProduct(fx.db.pool, fx.roots.stageRoot, 'p-all.fits', 'x', { dataId: 'p-all' });
      await pause('*');
      expect(await claimProduct(fx.deps(), 'p-all')).toMatchObject({ outcome: 'paused' });
      expect(await productRow(fx.db.pool, 'p-all')).toMatchObject({ status: 'staging', publish_attempts: 0, lease_token: null });
      expect(await eventNames(fx.db.pool, 'p-all')).toEqual([]);
      expect(await publishProduct(fx.deps(), 'p-all')).toEqual({ outcome: 'paused', reclaimed: false });
      await deletePause(fx.db.pool, { scope: '*', actor: 'test', reason: null });
      expect(await claimProduct(fx.deps(), 'p-all')).toMatchObject({ outcome: 'claimed' });
    });

    it('refuses only the paused data type', async () => {
      await stageProduct(fx.db.pool, fx.roots.stageRoot, 'p-ms.fits', 'x', { dataId: 'p-ms', dataType: 'ms' });
      await stageProduct(fx.db.pool, fx.roots.stageRoot, 'p-img.fits', 'x', { dataId: 'p-img', dataType: 'image' });
      await pause('ms');
      expect((await claimProduct(fx.deps(), 'p-ms')).outcome).toBe('paused');
      expect((await claimProduct(fx.deps(), 'p-img')).outcome).toBe('claimed');
    });

    it('reclaims an expired lease while paused, but does not claim the product again', async () => {
      await stageProduct(fx.db.pool, fx.roots.stageRoot, 'p-dead.fits', 'x', { dataId: 'p-dead' });
      const first = await claimProduct(fx.deps(), 'p-dead');
      if (first.outcome !== 'claimed') throw new Error('expected a claim');
      await fx.db.pool.query(`UPDATE products SET lease_expires_at = now() - interval '1 second' WHERE data_id = 'p-dead'`);
      await pause('*');
      expect(await claimProduct(fx.deps(), 'p-dead')).toMatchObject({ outcome: 'paused', reclaimedToken: first.token });
      expect(await productRow(fx.db.pool, 'p-dead')).toMatchObject({ status: 'staging', lease_token: null });
      expect(await eventNames(fx.db.pool, 'p-dead')).toEqual(['claimed', 'lease_reclaimed']);
    });

    it('lets no claim that starts after a concurrent pause committed take a product', async () => {
      const N = 30;
      for (let i = 0; i < N; i++) await stageProduct(fx.db.pool, fx.roots.stageRoot, `race-p/${i}.fits`, 'x', { dataId: `race-p${i}` });
      const d = fx.deps();
      let pausedAt = Infinity;
      const claims = Array.from({ length: N }, async (_, i) => {
        // Spread the claims over the pause: some start before it commits, some after.
        await new Promise((r) => setImmediate(r));
        if (i % 2) await new Promise((r) => setTimeout(r, i));
        const started = performance.now();
        return { started, outcome: (await claimProduct(d, `race-p${i}`)).outcome };
      });
      const paused = pause('*').then(() => (pausedAt = performance.now()));
      const results = await Promise.all(claims);
      await paused;
      expect(results.every((r) => r.outcome === 'claimed' || r.outcome === 'paused')).toBe(true);
      expect(results.filter((r) => r.started > pausedAt).every((r) => r.outcome === 'paused')).toBe(true);
      // What the claims answered is what the registry holds: no claim slipped past a pause it saw.
      const { rows } = await fx.db.pool.query(`SELECT count(*)::int AS n FROM products WHERE data_id LIKE 'race-p%' AND status = 'publishing'`);
      expect(rows[0].n).toBe(results.filter((r) => r.outcome === 'claimed').length);
    });
  });
});
