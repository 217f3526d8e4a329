import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import type { ProductRow } from '../product.types';
import * as repository from '.';
import { PRODUCT_EVENTS, TRANSITION_FUNCTIONS, TRANSITIONS, type ProductEvent } from '.';

// docs/architecture.md draws the product state machine as a mermaid stateDiagram-v2 block. This
// test walks it against the transition table and functions both ways: every drawn edge is a
// transition a function makes, and every transition (and every function) is drawn.
const ARCHITECTURE = path.resolve(__dirname, '../../../../docs/architecture.md');

interface Edge {
  from: string | null;
  to: string;
  event: string;
  by: string[];
}

function drawnEdges(): Edge[] {
  const doc = fs.readFileSync(ARCHITECTURE, 'utf8');
  const block = /```mermaid\n(stateDiagram-v2\n[\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/architecture.md has no mermaid stateDiagram-v2 block');
  const edges: Edge[] = [];
  for (const line of block[1]!.split('\n').map((l) => l.trim())) {
    const m = /^(\[\*\]|\w+) --> (\w+) *: *(\w+) \(([\w, ]+)\)$/.exec(line);
    if (m) edges.push({ from: m[1] === '[*]' ? null : m[1]!, to: m[2]!, event: m[3]!, by: m[4]!.split(/, */) });
    else if (line.includes('-->')) throw new Error(`unreadable edge in the diagram: ${line}`);
  }
  return edges;
}

const key = (e: Edge) => `${e.from ?? '[*]'} --> ${e.to}: ${e.event} (${[...e.by].sort().join(', ')})`;
const tableEdges = (): Edge[] => PRODUCT_EVENTS.map((event) => ({ event, ...TRANSITIONS[event], by: [...TRANSITIONS[event].by] }));

describe('the state diagram in docs/architecture.md', () => {
  it('draws exactly the transitions of the table, with who makes each', () => {
    expect(drawnEdges().map(key).sort()).toEqual(tableEdges().map(key).sort());
  });

  it('names each event once, and has one transition function per event and no other', () => {
    const events = drawnEdges().map((e) => e.event);
    expect(new Set(events).size).toBe(events.length);
    expect(Object.keys(TRANSITION_FUNCTIONS).sort()).toEqual([...PRODUCT_EVENTS].sort());
    const exported = Object.entries(repository).filter(([name, v]) => typeof v === 'function' && name.startsWith('record')).map(([, v]) => v);
    expect(new Set(exported)).toEqual(new Set(Object.values(TRANSITION_FUNCTIONS)));
  });
});

describe('each transition function writes the row and the event its edge declares', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const written = new Map<string, Edge>();
  const lease = (owner = 'w1') => ({ token: crypto.randomUUID(), owner, seconds: 60 });
  const worker = 'w1';

  /** Runs a transition, then checks the row's status and the one event it wrote against the table. */
  async function step<T extends ProductRow | ProductRow[] | boolean | undefined>(event: ProductEvent, dataId: string, run: () => Promise<T>): Promise<T> {
    const before = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM product_events WHERE data_id = $1', [dataId]);
    const result = await run();
    expect(result === undefined || result === false || (Array.isArray(result) && result.length === 0)).toBe(false);
    const events = await db.pool.query<{ event: string; from_status: string | null; to_status: string; ends_attempt: boolean }>(
      'SELECT event, from_status, to_status, ends_attempt FROM product_events WHERE data_id = $1 ORDER BY id', [dataId]);
    expect(events.rows).toHaveLength(before.rows[0]!.n + 1);
    const ev = events.rows[events.rows.length - 1]!;
    const t = TRANSITIONS[event];
    expect(ev).toEqual({ event, from_status: t.from, to_status: t.to, ends_attempt: t.endsAttempt });
    const row = await db.pool.query<{ status: string }>('SELECT status FROM products WHERE data_id = $1', [dataId]);
    expect(row.rows[0]!.status).toBe(t.to);
    written.set(event, { from: ev.from_status, to: ev.to_status, event, by: [...t.by] });
    return result;
  }

  it('walks every edge of the diagram through its function', async () => {
    const p = { data_type: 'image', kind: 'file' as const, size_bytes: 1, file_count: 1, expected_sha256: null, metadata: {} };
    const a = (await step('registered', 'a', () => repository.recordRegistered(db.pool, { ...p, data_id: 'a', stage_path: 'a.fits', destination_path: 'a.fits', due: false })))!;
    expect(a).toMatchObject({ held: true, next_attempt_at: null });
    await step('publish_requested', 'a', () => repository.recordPublishRequested(db.pool, a.id));

    let l = lease();
    const claimed = (await step('claimed', 'a', () => repository.recordClaimed(db.pool, { dataId: 'a', dueBy: new Date() }, l)))!;
    expect(claimed.next_attempt_at).toEqual(claimed.lease_expires_at);
    const failure = { error: 'EIO', errorClass: 'io_error', worker };
    await step('retry_scheduled', 'a', () => repository.recordRetryScheduled(db.pool, a.id, l.token, new Date(), failure));

    l = lease();
    await step('claimed', 'a', () => repository.recordClaimed(db.pool, { id: a.id }, l));
    await step('lease_released', 'a', () => repository.recordLeaseReleased(db.pool, a.id, l.token, { error: 'shutdown', worker }));

    l = lease();
    await repository.recordClaimed(db.pool, { id: a.id }, l);
    // Not expired yet: the one expiry rule refuses.
    expect(await repository.recordLeaseReclaimed(db.pool, a.id, l.token, new Date(), { error: 'x', worker })).toBeUndefined();
    const later = new Date(Date.now() + 120_000);
    expect(await repository.lockExpiredLeases(db.pool, later, 10)).toHaveLength(1);
    await step('lease_reclaimed', 'a', () => repository.recordLeaseReclaimed(db.pool, a.id, l.token, later, { error: 'expired', worker }));

    l = lease();
    await repository.recordClaimed(db.pool, { id: a.id }, l);
    await step('failed', 'a', () => repository.recordFailed(db.pool, a.id, l.token, failure));
    await step('retry_requested', 'a', () => repository.recordRetryRequested(db.pool, { id: a.id }));

    l = lease();
    await repository.recordClaimed(db.pool, { id: a.id }, l);
    const fields = { published_path: 'a.fits', size_bytes: 1, file_count: 1, checksum_sha256: 'a'.repeat(64), manifest: null, source_cleanup_pending: true };
    const published = (await step('published', 'a', () => repository.recordPublished(db.pool, a.id, l.token, fields, { attempt: 1, durationMs: 5, worker })))!;
    expect(published).toMatchObject({ source_removal_pending: true, next_attempt_at: published.published_at });
    await step('source_removed', 'a', () => repository.recordSourceRemoved(db.pool, a.id, { worker }));
    expect(await repository.recordSourceRemoved(db.pool, a.id, { worker })).toBe(false);

    // The operator verbs.
    const op = { actor: 'ops', reason: 'test' };
    const mk = async (id: string, due: boolean) =>
      (await repository.recordRegistered(db.pool, { ...p, data_id: id, stage_path: `${id}.fits`, destination_path: `${id}.fits`, due }))!;
    const b = await mk('b', true);
    await step('amended', 'b', () => repository.recordAmended(db.pool, b.id, { metadata: { v: 2 } }, op));
    await step('held', 'b', () => repository.recordHeld(db.pool, b.id, op));
    await step('released', 'b', () => repository.recordReleased(db.pool, b.id, op));
    await step('held', 'b', () => repository.recordHeld(db.pool, b.id, op));
    await step('held_discarded', 'b', () => repository.recordHeldDiscarded(db.pool, b.id, true, op));
    await step('discarded_source_removed', 'b', () => repository.recordDiscardedSourceRemoved(db.pool, b.id, worker));
    const c = await mk('c', true);
    l = lease();
    await repository.recordClaimed(db.pool, { id: c.id }, l);
    await repository.recordFailed(db.pool, c.id, l.token, failure);
    await step('failed_amended', 'c', () => repository.recordFailedAmended(db.pool, c.id, { expected_sha256: null }, op));
    await step('discarded', 'c', () => repository.recordDiscarded(db.pool, c.id, false, op));
    await step('retracted', 'a', () => repository.recordRetracted(db.pool, a.id, op));
    await step('retraction_moved', 'a', () => repository.recordRetractionMoved(db.pool, a.id, '.ferry-retracted/a.fits', worker));

    expect([...written.values()].map(key).sort()).toEqual(drawnEdges().map(key).sort());
  });
});
