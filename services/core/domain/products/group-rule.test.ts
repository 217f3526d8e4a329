import { createTestDatabase, emptyRegistry, type TestDatabase } from '../../../../test/support/database';
import type { ProductKind } from '../../repositories/product.types';
import type { NewProduct } from '../../repositories/product.repository';
import { isGroupCandidate, recordClaimed, recordRegistered } from '../../repositories/product-state';
import { isGroupable } from './publish-dispatch';

// Which products the worker publishes in groups is decided twice: in TypeScript when a
// registration decides whether a product needs a queued job of its own, and in SQL when the group
// claim picks its rows. Were they to differ, a small file could be left without a job until the
// reconciler's next pass, or a product given a job that no group then takes. Both must give the
// same answer for the same rows, at the edges of the limit.
describe('the group rule in TypeScript and in the group claim', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(() => emptyRegistry(db.pool));

  const limits = [0, 1, 1000, 1024 * 1024];
  const sources = (max: number): { kind: ProductKind; sizeBytes: number }[] => [
    ...[1, max - 1, max, max + 1, 10 * max + 7].filter((n) => n > 0).map((sizeBytes) => ({ kind: 'file' as const, sizeBytes })),
    { kind: 'directory', sizeBytes: 1 },
    { kind: 'directory', sizeBytes: Math.max(1, max) },
  ];

  it.each(limits)('agrees on every file and directory size around PUBLISH_GROUP_MAX_BYTES = %i', async (max) => {
    const rows: NewProduct[] = sources(max).map((s, i) => ({
      data_id: `p${i}`, data_type: 'image', stage_path: `run/p${i}`, destination_path: `run/p${i}`,
      kind: s.kind, size_bytes: s.sizeBytes, file_count: 1, expected_sha256: null, metadata: {},
    }));
    await recordRegistered(db.pool, rows);
    const dueBy = new Date(Date.now() + 60_000);
    const inTypeScript = rows.filter((r) => isGroupable(max, { kind: r.kind, sizeBytes: r.size_bytes })).map((r) => r.data_id);
    const candidates: string[] = [];
    for (const r of rows) {
      if (await isGroupCandidate(db.pool, { dataId: r.data_id, dueBy, maxBytes: max })) candidates.push(r.data_id);
    }
    expect(candidates).toEqual(inTypeScript);
    // The claim itself, which takes every member at once when nothing is named.
    const claimed = await recordClaimed(db.pool, { group: { dueBy, maxBytes: max, limit: rows.length } }, { owner: 'w1', seconds: 60 });
    expect(claimed.map((r) => r.data_id).sort()).toEqual([...inTypeScript].sort());
    // The limits chosen reach both answers, so the test cannot pass by both saying no.
    if (max > 0) expect(inTypeScript.length).toBeGreaterThan(0);
    expect(inTypeScript.length).toBeLessThan(rows.length);
  });
});
