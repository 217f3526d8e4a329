import type { FileHandle } from 'node:fs/promises';
import { withTransaction } from '../../db/transaction';
import { LeaseLostError, PublishError } from '../../errors/publish-error';
import { classifyError } from '../../publish/classify-error';
import { closeAll } from '../../publish/dir-handle';
import { syncDirsOnce, syncHandle } from '../../publish/fsync';
import { mapLimit } from '../../publish/map-limit';
import { GroupDirs } from '../../publish/group-dirs';
import { confirmLeases } from '../../repositories/lease.repository';
import { lockBulkStateChanges } from '../../repositories/product.repository';
import { isGroupCandidate, recordClaimed, recordPublished, recordSourceRemoved } from '../../repositories/product-state';
import type { ProductRow } from '../../repositories/product.types';
import { LeaseKeeper } from './extend-lease';
import { placeStaged, stageCopy, verifyUnchanged, type PublishContext, type PublishResult, type StagedCopy } from './publish-product';
import type { Lease, PublishingDeps } from './publishing.types';
import { recordFailure } from './record-failure';
import { releaseLease } from './release-lease';
import { removeGroupSourceFiles } from './remove-source';

/** Copies of a group made at once: each is small, so the wait is per-file latency, not bandwidth. */
const COPIES_IN_FLIGHT = 8;
/** fsyncs in flight in the group's durability step: the file system merges them into few journal commits. */
const SYNCS_IN_FLIGHT = 16;

/** A group's context: the single path's hooks, with progress per product. */
export interface GroupContext extends PublishContext {
  onMemberBytes?: (dataId: string, n: number) => void;
  /** Called once right after the claim with every member's data_id (the worker drops their queued jobs). */
  onGroupClaimed?: (dataIds: string[]) => Promise<void>;
}

/** One product's outcome in a group, with its row as claimed. */
export interface GroupMemberResult {
  product: ProductRow;
  result: PublishResult;
}

/** One product of a group on its way: its lease, keeper and what has been done for it so far. */
interface Member {
  product: ProductRow;
  lease: Lease;
  abort: AbortController;
  keeper: LeaseKeeper;
  leaseLost: boolean;
  staged?: StagedCopy;
  parent?: FileHandle;
  reusedExisting?: boolean;
  error?: unknown;
  row?: ProductRow;
}

const alive = (m: Member) => m.error === undefined;

/**
 * Publishes small products in a group: ONE statement claims the named product and up to
 * PUBLISH_GROUP_SIZE - 1 more due small files (the claim rules of one: due, unheld, unpaused, each
 * its own lease and `claimed` event); their copies run in parallel without their own fsyncs, and
 * their sources are verified unchanged together (each source directory walked to again once); ONE
 * durability step fsyncs every copy (in parallel) before any is placed; each is placed without
 * clobbering, then every final parent directory is fsynced once; ONE statement commits them,
 * each with its own `published` event and only where its lease still holds; move mode then
 * removes the sources and clears their markers in one more statement. A product that fails
 * anywhere fails alone, with its own error class, recorded as the single path records it.
 * undefined when the named product is not a due small file (the caller takes the single path).
 * Without a named product (a drain), the group is the oldest small files due by `dueBy`; undefined
 * when there are none (or groups are off).
 * A crash anywhere leaves each product published (its commit done) or leased until its lease
 * expires, then due again; a placed copy left uncommitted is found identical by the next attempt;
 * a source removed but its marker not yet cleared is finished by the reconciler.
 */
export async function publishGroup(
  deps: PublishingDeps, dataId: string | undefined, ctx: GroupContext = {}, dueBy = new Date(),
): Promise<GroupMemberResult[] | undefined> {
  const { groupMaxBytes, groupSize, leaseSeconds } = deps.config.publish;
  if (groupMaxBytes <= 0) return undefined;
  const target = { dataId, dueBy, maxBytes: groupMaxBytes };
  // Most jobs of a grouped product find it taken by another's group: they skip the claim's turn.
  if (dataId !== undefined && !(await isGroupCandidate(deps.pool, { ...target, dataId }))) return undefined;
  const rows = await withTransaction(deps.pool, async (tx) => {
    await lockBulkStateChanges(tx);
    return recordClaimed(tx, { group: { ...target, limit: groupSize } }, {
      owner: deps.config.instance, seconds: leaseSeconds,
    });
  });
  if (rows.length === 0) return undefined;
  const started = Date.now();
  const members = rows.map((product): Member => {
    const lease: Lease = { productId: product.id, dataId: product.data_id, token: product.lease_token!, attempt: product.publish_attempts };
    const abort = new AbortController();
    const m: Member = {
      product, lease, abort, leaseLost: false,
      keeper: new LeaseKeeper(deps, lease, () => {
        m.leaseLost = true;
        abort.abort(new LeaseLostError());
      }, (err) => ctx.onWarning?.('lease extension failed', err)),
    };
    return m;
  });
  await ctx.onGroupClaimed?.(rows.map((r) => r.data_id)).catch((err) => ctx.onWarning?.('group claim hook failed', err));
  const onShutdown = () => members.forEach((m) => m.abort.abort(new PublishError('internal', 'worker shutting down')));
  if (ctx.shutdownSignal?.aborted) onShutdown();
  ctx.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
  for (const m of members) {
    ctx.onClaimed?.(m.lease, m.product);
    m.keeper.start();
  }
  // The roots' handles, opened once for all members; the leases are checked together before placing.
  let group: { dirs: GroupDirs; leaseChecked: boolean } | undefined;
  const opts = (m: Member) => ({
    signal: m.abort.signal, hooks: ctx, syncLater: true, group,
    onBytes: (n: number) => {
      // The group's progress keeps every member's lease: the members waiting for a copy slot (or
      // for a bandwidth limit shared by all) move no bytes of their own, and a keeper that saw no
      // progress would let their leases lapse, for other workers to reclaim mid-group.
      for (const x of members) x.keeper.tick(n);
      ctx.onMemberBytes?.(m.lease.dataId, n);
    },
  });
  /** Runs a step for each product still going; a product whose step throws keeps its error and drops out. */
  const each = (limit: number, step: (m: Member) => Promise<void>) => mapLimit(members.filter(alive), limit, async (m) => {
    try {
      m.abort.signal.throwIfAborted();
      await step(m);
    } catch (err) {
      m.error = err;
    }
  });
  try {
    try {
      group = { dirs: await GroupDirs.open(deps.config.paths, members[0]!.lease.token), leaseChecked: false };
    } catch (err) {
      // As each member's own temp dir would have failed: every one fails alone, recorded as such.
      for (const m of members) m.error = err;
    }
    await each(COPIES_IN_FLIGHT, async (m) => {
      m.staged = await stageCopy(deps, m.product, m.lease, opts(m));
    });
    // The single path's post-copy verify, for every member copied, each source directory walked to once.
    const copied = members.filter((m) => alive(m) && !m.staged!.existing);
    if (copied.length > 0) {
      const errors = await verifyUnchanged(deps.config.paths.stageRoot, copied.map((m) => ({ ...m.staged!, product: m.product })), group!.dirs.stage);
      copied.forEach((m, i) => {
        if (errors[i] !== undefined) m.error = errors[i];
      });
    }
    // The group's durability step: every copy on disk before any of them becomes visible.
    await each(SYNCS_IN_FLIGHT, async (m) => {
      if (!m.staged!.existing) await syncHandle(m.staged!.written!, `PRODUCTS_ROOT/${m.staged!.paths.relative}`);
    });
    // The last lease check before anything becomes visible, for every member in one statement.
    await checkLeases(deps, members.filter(alive));
    if (group) group.leaseChecked = true;
    await each(COPIES_IN_FLIGHT, async (m) => {
      if (m.staged!.existing) {
        m.reusedExisting = true;
        return;
      }
      const placed = await placeStaged(deps, m.product, m.lease, m.staged!, opts(m), false);
      m.reusedExisting = placed.reusedExisting;
      m.parent = placed.parent;
    });
    await syncParents(members);
    // The temp dir goes while the leases are still held (after the commit nothing would remember
    // the token), with any copy a failed member left in it. Without the group's handles (opening
    // them failed) there is none.
    await group?.dirs.removeTemp().catch((err) => ctx.onWarning?.('temp cleanup failed', err));
    await Promise.all(members.map((m) => m.keeper.stop()));
    await commitGroup(deps, members.filter(alive), Date.now() - started);
    if (deps.config.publish.mode === 'move') {
      // The sources go together: each renamed into the trash, each stage directory fsynced once,
      // then the trash deleted. The markers are cleared together afterwards; one left set (a
      // removal failed, or a crash before the statement) is finished by the reconciler, as on the
      // single path.
      const committed = members.filter((x) => x.row);
      for (const m of committed) await ctx.testHook?.('before-source-removal', m.lease.dataId);
      const errors = await removeGroupSourceFiles(deps, committed.map((m) => ({
        row: m.row!, source: { parent: m.staged!.source.parent, name: m.staged!.paths.name, identity: m.staged!.before.entries[0]! },
      })));
      const removed: number[] = [];
      committed.forEach((m, i) => {
        if (errors[i] === undefined) removed.push(m.row!.id);
        else ctx.onWarning?.('source removal failed; the reconciler finishes it', errors[i]);
      });
      await recordSourceRemoved(deps.pool, removed, { worker: deps.config.instance })
        .catch((err) => ctx.onWarning?.('source removal failed; the reconciler finishes it', err));
    }
    const results: GroupMemberResult[] = [];
    for (const m of members) results.push({ product: m.product, result: await outcomeOf(deps, m, ctx, started) });
    return results;
  } finally {
    ctx.shutdownSignal?.removeEventListener('abort', onShutdown);
    await Promise.all(members.map((m) => m.keeper.stop()));
    // Every handle at once: closed member after member, each a trip through libuv's pool, they
    // kept the group's job for a quarter of its time (docs/performance.md, seventh pass).
    await Promise.allSettled([
      group?.dirs.close(),
      ...members.map(async (m) => {
        await closeAll(m.staged?.handles ?? []);
        await m.staged?.source.close();
      }),
    ]);
  }
}

/**
 * One fsync per distinct final parent directory (by device and inode), in parallel, so each
 * product's new name is durable before its commit. A failed fsync fails the products placed in it.
 */
async function syncParents(members: Member[]): Promise<void> {
  const placed = members.filter((m) => m.parent && alive(m));
  const errors = await syncDirsOnce(placed.map((m) => ({ fh: m.parent!, label: `PRODUCTS_ROOT/${m.staged!.paths.relative}` })), SYNCS_IN_FLIGHT);
  placed.forEach((m, i) => {
    if (errors[i] !== undefined) m.error = errors[i];
  });
}

/**
 * Confirms every member's lease in one statement (confirmLeases); a member whose lease is gone
 * drops out, lost. A failed statement (PostgreSQL unreachable) fails each member alone, as its own
 * check would have: its failure is then recorded, or found lost, like any other.
 */
async function checkLeases(deps: PublishingDeps, members: Member[]): Promise<void> {
  if (members.length === 0) return;
  let held: Set<number>;
  try {
    held = await confirmLeases(deps.pool, members.map((m) => ({ id: m.lease.productId, token: m.lease.token })), deps.config.publish.leaseSeconds);
  } catch (err) {
    for (const m of members) m.error = err;
    return;
  }
  for (const m of members) {
    if (held.has(m.lease.productId)) continue;
    m.leaseLost = true;
    m.error = new LeaseLostError();
  }
}

/**
 * The group's commit: one statement, each product's own `published` row change and event, each
 * only where its lease still holds. A product whose lease was lost changes nothing and is
 * reported lost; the others commit.
 */
async function commitGroup(deps: PublishingDeps, members: Member[], durationMs: number): Promise<void> {
  if (members.length === 0) return;
  const moveMode = deps.config.publish.mode === 'move';
  const rows = await withTransaction(deps.pool, async (tx) => {
    await lockBulkStateChanges(tx);
    return recordPublished(tx, members.map((m) => {
      const { digest, paths } = m.staged!;
      return {
        id: m.lease.productId, token: m.lease.token, attempt: m.lease.attempt,
        fields: {
          published_path: paths.relative, size_bytes: digest.size, file_count: digest.fileCount,
          checksum_sha256: digest.sha256, manifest: digest.manifest, source_cleanup_pending: moveMode,
        },
      };
    }), { durationMs, worker: deps.config.instance });
  });
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const m of members) {
    const row = byId.get(m.lease.productId);
    if (row) m.row = row;
    else m.error = new LeaseLostError('lease lost before commit: another worker owns this product');
  }
}

/** A product's result, its failure recorded exactly as the single path records one. */
async function outcomeOf(
  deps: PublishingDeps, m: Member, ctx: GroupContext, started: number,
): Promise<PublishResult> {
  const { lease } = m;
  if (m.row) {
    return { outcome: 'published', lease, digest: m.staged!.digest, durationMs: Date.now() - started, reusedExisting: m.reusedExisting ?? false, reclaimed: false };
  }
  if (m.leaseLost || m.error instanceof LeaseLostError) return { outcome: 'lease_lost', lease, reclaimed: false };
  if (ctx.shutdownSignal?.aborted) {
    await releaseLease(deps, lease, 'worker shut down before the copy finished');
    return { outcome: 'released', lease, reclaimed: false };
  }
  const error = classifyError(m.error);
  const recorded = await recordFailure(deps, lease, error);
  if (recorded.outcome === 'lease_lost') return { outcome: 'lease_lost', lease, reclaimed: false };
  if (recorded.outcome === 'failed') return { outcome: 'failed', lease, error, reclaimed: false };
  return { outcome: 'retry', lease, error, nextAttemptAt: recorded.nextAttemptAt, reclaimed: false };
}
