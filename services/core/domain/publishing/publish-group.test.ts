import fs from 'node:fs/promises';
import path from 'node:path';
import { statusCountDrift } from '../../../../test/support/products';
import { writeFile } from '../../../../test/support/dirs';
import { eventNames, listTree, productRow, sha256, stageProduct } from '../../../../test/support/publish-fixtures';
import { usePublishingTest } from '../../../../test/support/publishing-test';
import { tempRoot } from '../../publish/temp-area';
import { insertPause } from '../../repositories/publishing-control.repository';
import { publishGroup } from './publish-group';
import { findOrphanTemporaries } from './remove-orphan-temporaries';

jest.setTimeout(30000);

/** The data roots' files and directories this process holds open now (by /proc's link of each descriptor, a resolved path). */
async function openUnder(roots: { stageRoot: string; productsRoot: string }): Promise<string[]> {
  const under = await Promise.all([roots.stageRoot, roots.productsRoot].map((r) => fs.realpath(r)));
  const targets = await Promise.all((await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => under.some((r) => t.startsWith(`${r}/`) || t === r)).sort();
}

describe('publishGroup', () => {
  const fx = usePublishingTest({ PUBLISH_GROUP_MAX_BYTES: '1000', PUBLISH_GROUP_SIZE: '8' });
  beforeEach(() => fx.db.pool.query('TRUNCATE products, product_status_counts, publishing_pauses CASCADE'));
  const stage = (rel: string, content: string | Buffer | Record<string, string>, dataId: string, expectedSha256?: string) =>
    stageProduct(fx.db.pool, fx.roots.stageRoot, rel, content, { dataId, expectedSha256 });
  const statusOf = async (dataId: string) => (await productRow(fx.db.pool, dataId)).status;

  it('claims, copies and commits due small files together, each with its own events, and leaves the rest alone', async () => {
    for (let i = 0; i < 5; i++) await stage(`g/small-${i}.fits`, `small product ${i}`, `small-${i}`);
    await stage('g/large.fits', Buffer.alloc(2000, 1), 'large');
    await stage('g/dir', { 'a.bin': 'a' }, 'dir');
    await stage('g/held.fits', 'held', 'held');
    await fx.db.pool.query("UPDATE products SET held = true, due_at = NULL WHERE data_id = 'held'");
    await stage('g/later.fits', 'later', 'later');
    await fx.db.pool.query("UPDATE products SET due_at = now() + interval '1 hour' WHERE data_id = 'later'");

    const opened = await openUnder(fx.roots);
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'move' }), 'small-3');
    // Every handle the group opened (roots, parents, sources, copies) is closed before it answers.
    expect(await openUnder(fx.roots)).toEqual(opened);

    expect(group!.map((m) => m.product.data_id)).toEqual(['small-3', 'small-0', 'small-1', 'small-2', 'small-4']);
    expect(group!.map((m) => m.result.outcome)).toEqual(Array(5).fill('published'));
    for (let i = 0; i < 5; i++) {
      expect(await fs.readFile(path.join(fx.roots.productsRoot, `g/small-${i}.fits`), 'utf8')).toBe(`small product ${i}`);
      await expect(fs.access(path.join(fx.roots.stageRoot, `g/small-${i}.fits`))).rejects.toThrow();
      expect(await productRow(fx.db.pool, `small-${i}`)).toMatchObject({
        status: 'published', checksum_sha256: sha256(`small product ${i}`), size_bytes: 15, lease_token: null, source_removal_pending: false,
      });
      expect(await eventNames(fx.db.pool, `small-${i}`)).toEqual(['claimed', 'published', 'source_removed']);
    }
    const published = await fx.db.pool.query("SELECT count(*)::int AS n FROM product_events WHERE event = 'published'");
    expect(published.rows[0].n).toBe(5);
    expect(await statusCountDrift(fx.db.pool)).toEqual([]);
    for (const other of ['large', 'dir', 'held', 'later']) expect([other, await statusOf(other)]).toEqual([other, 'staging']);
    expect(await listTree(fx.roots.productsRoot)).toEqual(['.ferry-tmp', 'g', ...[0, 1, 2, 3, 4].map((i) => `g/small-${i}.fits`)]);
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it('keeps the leases of the members still waiting for a copy slot while the group moves bytes', async () => {
    // 56 members, 8 copies at a time, each copy paced to about 1 s: the last ones start about 6 s
    // after the claim, past the 5 s lease, having moved no bytes of their own until then.
    const n = 56;
    for (let i = 0; i < n; i++) await stage(`w/m-${String(i).padStart(2, '0')}.fits`, `member ${i}`, `m-${String(i).padStart(2, '0')}`);
    const claimedAt = Date.now();
    const lapsed: string[] = [];
    let latestStartMs = 0;
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'copy', PUBLISH_GROUP_SIZE: String(n) }), 'm-00', {
      pace: () => new Promise((r) => setTimeout(r, 1000)),
      testHook: async (point, dataId) => {
        if (point !== 'after-scan') return;
        latestStartMs = Math.max(latestStartMs, Date.now() - claimedAt);
        const row = await productRow(fx.db.pool, dataId);
        if (!(row.lease_expires_at && row.lease_expires_at.getTime() > Date.now())) lapsed.push(dataId);
      },
    });
    expect(latestStartMs).toBeGreaterThan(5000);
    expect(lapsed).toEqual([]);
    expect(group!.map((m) => m.result.outcome)).toEqual(Array(n).fill('published'));
  });

  it('takes at most PUBLISH_GROUP_SIZE products, the named one first', async () => {
    for (let i = 0; i < 5; i++) await stage(`s/f${i}`, `f${i}`, `f${i}`);
    const group = await publishGroup(fx.deps({ PUBLISH_GROUP_SIZE: '3', PUBLISH_MODE: 'copy' }), 'f4');
    expect(group!.map((m) => m.product.data_id)).toEqual(['f4', 'f0', 'f1']);
    expect(await statusOf('f2')).toBe('staging');
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 's/f4'), 'utf8')).toBe('f4');
  });

  it('drains without a named product: the oldest small files due by the given time, up to PUBLISH_GROUP_SIZE, and undefined once none is left', async () => {
    for (let i = 0; i < 5; i++) await stage(`d/f${i}`, `f${i}`, `f${i}`);
    await stage('d/large.fits', Buffer.alloc(2000, 1), 'large');
    await stage('d/held.fits', 'held', 'held');
    await fx.db.pool.query("UPDATE products SET held = true, due_at = NULL WHERE data_id = 'held'");
    // Due after the drain began: left for its own job.
    await stage('d/later.fits', 'later', 'later');
    const dueBy = new Date();
    await fx.db.pool.query("UPDATE products SET due_at = $1::timestamptz + interval '1 second' WHERE data_id = 'later'", [dueBy]);
    const deps = fx.deps({ PUBLISH_GROUP_SIZE: '3', PUBLISH_MODE: 'copy' });

    const first = await publishGroup(deps, undefined, {}, dueBy);
    expect(first!.map((m) => [m.product.data_id, m.result.outcome])).toEqual([['f0', 'published'], ['f1', 'published'], ['f2', 'published']]);
    const second = await publishGroup(deps, undefined, {}, dueBy);
    expect(second!.map((m) => m.product.data_id)).toEqual(['f3', 'f4']);
    expect(await publishGroup(deps, undefined, {}, dueBy)).toBeUndefined();
    for (const id of ['large', 'held', 'later']) expect([id, await statusOf(id)]).toEqual([id, 'staging']);
    expect(await publishGroup(fx.deps({ PUBLISH_GROUP_MAX_BYTES: '0' }), undefined, {}, new Date(Date.now() + 5000))).toBeUndefined();
    expect(await statusOf('later')).toBe('staging');
    expect(await statusCountDrift(fx.db.pool)).toEqual([]);
  });

  it('answers undefined, claiming nothing, when the named product is not a due small file or groups are off', async () => {
    await stage('u/large.fits', Buffer.alloc(2000, 1), 'large');
    await stage('u/small.fits', 'small', 'small');
    await stage('u/typed.fits', 'typed', 'typed');
    await fx.db.pool.query("UPDATE products SET data_type = 'mosaic' WHERE data_id = 'typed'");
    await insertPause(fx.db.pool, { scope: 'mosaic', actor: 'test', reason: 'test' });
    expect(await publishGroup(fx.deps(), 'large')).toBeUndefined();
    expect(await publishGroup(fx.deps(), 'typed')).toBeUndefined();
    expect(await publishGroup(fx.deps(), 'nope')).toBeUndefined();
    expect(await publishGroup(fx.deps({ PUBLISH_GROUP_MAX_BYTES: '0' }), 'small')).toBeUndefined();
    for (const id of ['large', 'small', 'typed']) expect(await eventNames(fx.db.pool, id)).toEqual([]);
    // A paused type is never taken into another product's group either.
    const group = await publishGroup(fx.deps(), 'small');
    expect(group!.map((m) => m.product.data_id)).toEqual(['small']);
    expect(await statusOf('typed')).toBe('staging');
  });

  it('fails a bad product alone with its own error class, and publishes the others', async () => {
    await stage('x/ok-1.fits', 'ok one', 'ok-1');
    await stage('x/bad-sum.fits', 'bad sum', 'bad-sum', 'f'.repeat(64));
    await stage('x/taken.fits', 'mine', 'taken');
    await fs.mkdir(path.join(fx.roots.productsRoot, 'x'), { recursive: true });
    await fs.writeFile(path.join(fx.roots.productsRoot, 'x/taken.fits'), 'somebody else');
    await stage('x/gone.fits', 'gone', 'gone');
    await fs.rm(path.join(fx.roots.stageRoot, 'x/gone.fits'));
    await stage('x/ok-2.fits', 'ok two', 'ok-2');

    const opened = await openUnder(fx.roots);
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'copy' }), 'ok-1');
    expect(await openUnder(fx.roots)).toEqual(opened);

    const byId = Object.fromEntries(group!.map((m) => [m.product.data_id, m.result]));
    expect(byId['ok-1']!.outcome).toBe('published');
    expect(byId['ok-2']!.outcome).toBe('published');
    const classes = await fx.db.pool.query<{ data_id: string; status: string; error_class: string | null }>(
      "SELECT data_id, status, error_class FROM products WHERE data_id IN ('bad-sum', 'taken', 'gone') ORDER BY data_id",
    );
    expect(classes.rows).toEqual([
      { data_id: 'bad-sum', status: 'failed', error_class: 'checksum_mismatch' },
      { data_id: 'gone', status: expect.stringMatching(/^(staging|failed)$/), error_class: 'source_missing' },
      { data_id: 'taken', status: 'failed', error_class: 'conflict' },
    ]);
    expect(await fs.readFile(path.join(fx.roots.productsRoot, 'x/taken.fits'), 'utf8')).toBe('somebody else');
    await expect(fs.access(path.join(fx.roots.productsRoot, 'x/bad-sum.fits'))).rejects.toThrow();
    expect(await eventNames(fx.db.pool, 'ok-2')).toEqual(['claimed', 'published']);
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it('never places a product whose lease was taken over, and commits the others', async () => {
    await stage('l/a.fits', 'aaa', 'a');
    await stage('l/b.fits', 'bbb', 'b');
    const d = fx.deps({ PUBLISH_MODE: 'copy' });
    const group = await publishGroup(d, 'a', {
      // Another worker takes b over (its lease token changes) while b's copy is made.
      testHook: async (point, dataId) => {
        if (point === 'after-copy' && dataId === 'b') {
          await fx.db.pool.query("UPDATE products SET lease_token = gen_random_uuid() WHERE data_id = 'b'");
        }
      },
    });
    expect(group!.map((m) => [m.product.data_id, m.result.outcome])).toEqual([['a', 'published'], ['b', 'lease_lost']]);
    await expect(fs.access(path.join(fx.roots.productsRoot, 'l/b.fits'))).rejects.toThrow();
    expect(await eventNames(fx.db.pool, 'b')).toEqual(['claimed']);
    expect(await statusOf('a')).toBe('published');
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it("catches a member's stage directory swapped for a symlink mid-group, though the group shares STAGE_ROOT's handle", async () => {
    await stage('sw/a/m.fits', 'the real m', 'm');
    await stage('sw/b/n.fits', 'the real n', 'n');
    const outside = path.join(fx.roots.base, 'outside');
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'm.fits'), 'not from the stage');
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'move' }), 'm', {
      // After m's scan, its directory is moved away and a link to a directory outside takes its name.
      testHook: async (point, dataId) => {
        if (point !== 'after-scan' || dataId !== 'm') return;
        await fs.rename(path.join(fx.roots.stageRoot, 'sw/a'), path.join(fx.roots.stageRoot, 'sw/moved'));
        await fs.symlink(outside, path.join(fx.roots.stageRoot, 'sw/a'));
      },
    });
    const byId = Object.fromEntries(group!.map((g) => [g.product.data_id, g.result]));
    expect(byId.n!.outcome).toBe('published');
    expect(byId.m).toMatchObject({ outcome: 'retry', error: { errorClass: 'source_changed' } });
    await expect(fs.access(path.join(fx.roots.productsRoot, 'sw/a/m.fits'))).rejects.toThrow();
    // Nothing outside was read into the archive or removed, and the moved source is left alone.
    expect(await fs.readFile(path.join(outside, 'm.fits'), 'utf8')).toBe('not from the stage');
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 'sw/moved/m.fits'), 'utf8')).toBe('the real m');
    expect(await fs.readFile(path.join(fx.roots.productsRoot, 'sw/b/n.fits'), 'utf8')).toBe('the real n');
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it('verifies every member after all the copies: a source directory swapped after its copies fails each member in it', async () => {
    for (const m of ['p', 'q']) await stage(`v/a/${m}.fits`, `the real ${m}`, m);
    await stage('v/b/r.fits', 'the real r', 'r');
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'move' }), 'p', {
      // Once r is copied (p and q were copied before it, or with it), v/a is moved away and a new
      // v/a takes its place with files of the same names and contents: other entries, not the ones copied.
      testHook: async (point, dataId) => {
        if (point !== 'after-copy' || dataId !== 'r') return;
        await fs.rename(path.join(fx.roots.stageRoot, 'v/a'), path.join(fx.roots.stageRoot, 'v/moved'));
        for (const m of ['p', 'q']) await writeFile(fx.roots.stageRoot, `v/a/${m}.fits`, `the real ${m}`);
      },
    });
    const byId = Object.fromEntries(group!.map((g) => [g.product.data_id, g.result]));
    expect(byId.r!.outcome).toBe('published');
    for (const m of ['p', 'q']) {
      expect(byId[m]).toMatchObject({ outcome: 'retry', error: { errorClass: 'source_changed' } });
      await expect(fs.access(path.join(fx.roots.productsRoot, `v/a/${m}.fits`))).rejects.toThrow();
      // Neither the entries copied nor the new ones were removed.
      expect(await fs.readFile(path.join(fx.roots.stageRoot, `v/moved/${m}.fits`), 'utf8')).toBe(`the real ${m}`);
      expect(await fs.readFile(path.join(fx.roots.stageRoot, `v/a/${m}.fits`), 'utf8')).toBe(`the real ${m}`);
    }
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it("fsyncs every member's copy through the copy's own handle before any member is placed", async () => {
    for (let i = 0; i < 4; i++) await stage(`sync/s-${i}.fits`, `synced ${i}`, `s-${i}`);
    // What each fsync'd handle named at that moment, how it was opened, and whether any product was visible yet.
    const synced: Array<{ target: string; writable: boolean; placed: number }> = [];
    const probe = await fs.open(path.join(fx.roots.stageRoot, 'sync/s-0.fits'));
    const proto = Object.getPrototypeOf(probe) as { sync(this: { fd: number }): Promise<void> };
    await probe.close();
    const original = proto.sync;
    const sync = jest.spyOn(proto, 'sync').mockImplementation(async function (this: { fd: number }) {
      const target = await fs.readlink(`/proc/self/fd/${this.fd}`);
      // fdinfo's flags are octal; the access mode is their low two bits (1: O_WRONLY, the copy's own handle).
      const flags = /flags:\s+(\d+)/.exec(await fs.readFile(`/proc/self/fdinfo/${this.fd}`, 'utf8'))![1]!;
      const writable = (parseInt(flags, 8) & 3) === 1;
      const placed = (await fs.readdir(path.join(fx.roots.productsRoot, 'sync')).catch(() => [])).length;
      synced.push({ target, writable, placed });
      return original.call(this);
    });
    const group = await publishGroup(fx.deps(), 's-0').finally(() => sync.mockRestore());
    expect(group!.map((m) => m.result.outcome)).toEqual(Array(4).fill('published'));
    // Each member's copy, named by its product's id in the group's temp dir.
    const copies = synced.filter((s) => s.target.includes('/.ferry-tmp/'));
    expect(copies.map((s) => path.basename(s.target)).sort()).toEqual(group!.map((m) => String(m.product.id)).sort());
    expect(copies.every((s) => s.writable && s.placed === 0)).toBe(true);
  });

  it('publishes members spread over several directories, new and nested, two of the same name, each parent opened once for the group', async () => {
    const rels = ['n/a/x.fits', 'n/a/y.fits', 'n/b/z.fits', 'top.fits', 'n/a/deeper/w.fits', 'n/b/x.fits'];
    for (const [i, rel] of rels.entries()) await stage(rel, `spread ${i}`, `spread-${i}`);

    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'move' }), 'spread-0');

    expect(group!.map((m) => [m.product.data_id, m.result.outcome, (m.result as { error?: unknown }).error])).toEqual(rels.map((_, i) => [`spread-${i}`, 'published', undefined]));
    for (const [i, rel] of rels.entries()) {
      expect(await fs.readFile(path.join(fx.roots.productsRoot, rel), 'utf8')).toBe(`spread ${i}`);
      await expect(fs.access(path.join(fx.roots.stageRoot, rel))).rejects.toThrow();
      expect(await eventNames(fx.db.pool, `spread-${i}`)).toEqual(['claimed', 'published', 'source_removed']);
    }
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
    // None of the sources is left in the stage's trash.
    expect(await listTree(tempRoot(fx.roots.stageRoot))).toEqual([]);
  });

  it("copies into one temp dir named after the first member's lease, which no orphan sweep takes while the group runs", async () => {
    for (let i = 0; i < 3; i++) await stage(`t/m-${i}.fits`, `member ${i}`, `m-${i}`);
    const seen: Array<{ entries: string[]; orphans: string[]; copies: string[] }> = [];
    const group = await publishGroup(fx.deps(), 'm-0', {
      testHook: async (point) => {
        if (point !== 'after-copy') return;
        const entries = await fs.readdir(tempRoot(fx.roots.productsRoot));
        seen.push({
          entries, orphans: await findOrphanTemporaries(fx.db.pool, fx.roots.productsRoot),
          copies: await fs.readdir(path.join(tempRoot(fx.roots.productsRoot), entries[0]!)),
        });
      },
    });
    expect(group!.map((m) => m.result.outcome)).toEqual(Array(3).fill('published'));
    const leader = group![0]!;
    expect(leader.product.data_id).toBe('m-0');
    expect(seen).toHaveLength(3);
    for (const s of seen) expect(s).toMatchObject({ entries: [leader.product.lease_token], orphans: [] });
    // Each copy is named by its product's id, so members of the same name cannot meet.
    expect(seen.at(-1)!.copies.sort()).toEqual(group!.map((m) => String(m.product.id)).sort());
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });

  it('removes only the entries scanned: a source swapped after the commit is left in place', async () => {
    await stage('s/keep.fits', 'published one', 'keep');
    await stage('s/swap.fits', 'published two', 'swap');
    const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'move' }), 'keep', {
      testHook: async (point, dataId) => {
        if (point !== 'before-source-removal' || dataId !== 'swap') return;
        // A stage writer puts a new file at the published source's name (made first, so it cannot reuse the inode).
        await fs.writeFile(path.join(fx.roots.stageRoot, 's/new.tmp'), 'a new file, not the product');
        await fs.rename(path.join(fx.roots.stageRoot, 's/new.tmp'), path.join(fx.roots.stageRoot, 's/swap.fits'));
      },
    });
    expect(group!.map((m) => m.result.outcome)).toEqual(['published', 'published']);
    await expect(fs.access(path.join(fx.roots.stageRoot, 's/keep.fits'))).rejects.toThrow();
    expect(await fs.readFile(path.join(fx.roots.stageRoot, 's/swap.fits'), 'utf8')).toBe('a new file, not the product');
    expect(await fs.readFile(path.join(fx.roots.productsRoot, 's/swap.fits'), 'utf8')).toBe('published two');
    expect(await listTree(tempRoot(fx.roots.stageRoot))).toEqual([]);
  });

  it('fails every member alone, following nothing, when PRODUCTS_ROOT/.ferry-tmp is a symlink', async () => {
    await stage('t/one.fits', 'one', 'one');
    await stage('t/two.fits', 'two', 'two');
    const elsewhere = path.join(fx.roots.stageRoot, 'planted');
    await fs.mkdir(elsewhere);
    await fs.rm(tempRoot(fx.roots.productsRoot), { recursive: true, force: true });
    await fs.symlink(elsewhere, tempRoot(fx.roots.productsRoot));
    try {
      const group = await publishGroup(fx.deps({ PUBLISH_MODE: 'copy' }), 'one');
      expect(group!.map((m) => m.result.outcome)).toEqual(['retry', 'retry']);
      const rows = await fx.db.pool.query<{ error_class: string }>("SELECT error_class FROM products WHERE data_id IN ('one', 'two')");
      expect(rows.rows.map((r) => r.error_class)).toEqual(['io_error', 'io_error']);
      expect(await fs.readdir(elsewhere)).toEqual([]);
      await expect(fs.access(path.join(fx.roots.productsRoot, 't'))).rejects.toThrow();
    } finally {
      await fs.rm(tempRoot(fx.roots.productsRoot));
    }
  });
  it('fails each member alone, placing nothing and throwing nothing, when the group lease check cannot reach PostgreSQL', async () => {
    await stage('u/one.fits', 'one', 'u-one');
    await stage('u/two.fits', 'two', 'u-two');
    const d = fx.deps({ PUBLISH_MODE: 'copy' });
    // The pool as the group sees it: the one statement that checks every lease fails, as on a cut link.
    const pool = new Proxy(d.pool, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
        return (q: unknown, ...rest: unknown[]) => {
          const text = typeof q === 'string' ? q : (q as { text: string }).text;
          if (text.includes('AS l(id, token)')) return Promise.reject(new Error('Connection terminated unexpectedly'));
          return (target.query as (...a: unknown[]) => unknown)(q, ...rest);
        };
      },
    });
    const group = await publishGroup({ ...d, pool }, 'u-one');
    expect(group!.map((m) => m.result.outcome)).toEqual(['retry', 'retry']);
    for (const rel of ['u/one.fits', 'u/two.fits']) await expect(fs.access(path.join(fx.roots.productsRoot, rel))).rejects.toThrow();
    expect(await statusOf('u-one')).toBe('staging');
    expect(await listTree(tempRoot(fx.roots.productsRoot))).toEqual([]);
  });
});
