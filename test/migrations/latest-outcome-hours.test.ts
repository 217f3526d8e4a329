import { migrate, migrationNames } from '../../services/core/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { keptOutcomes, outcomeHoursDrift, referenceOutcomes, writeOutcomeHistory } from '../support/outcome-history';

const MIGRATION = '1796540400000_latest-outcome-hours';
const HOUR = 3_600_000;

describe(`${MIGRATION}: backfill`, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('gives the figure of the DISTINCT ON definition for a history written before it, and keeps it after', async () => {
    const before = migrationNames().indexOf(MIGRATION);
    expect(before).toBeGreaterThan(0);
    await migrate({ databaseUrl: db.url, count: before });
    // The backfill reads the last 25 hours before now(), so this history ends now.
    const now = new Date();
    await writeOutcomeHistory(db.pool, { seed: 11, now, products: 300, hours: 30, writers: 4 });
    expect(await migrate({ databaseUrl: db.url, count: 1 })).toEqual([MIGRATION]);

    const dayAgo = now.getTime() - 24 * HOUR;
    const onHour = Math.floor(dayAgo / HOUR) * HOUR;
    const windows = [new Date(dayAgo), new Date(onHour + HOUR), new Date(onHour + HOUR - 1), new Date(now.getTime() - 6 * HOUR)];
    const compare = async (): Promise<void> => {
      for (const since of windows) {
        expect({ since: since.toISOString(), ...(await keptOutcomes(db.pool, since)) })
          .toEqual({ since: since.toISOString(), ...(await referenceOutcomes(db.pool, since)) });
      }
      expect(await outcomeHoursDrift(db.pool)).toEqual([]);
    };
    await compare();
    expect((await referenceOutcomes(db.pool, windows[0]!)).products).toBeGreaterThan(150);

    // The triggers carry on from the backfilled rows.
    await writeOutcomeHistory(db.pool, { seed: 12, now, products: 100, hours: 30, writers: 4 });
    await db.pool.query(`UPDATE products SET status = 'discarded' WHERE data_id LIKE 'h11-%' AND id % 7 = 0`);
    await compare();
  });
});
