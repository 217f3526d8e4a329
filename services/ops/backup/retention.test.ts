import type { FoundBackup } from './backup-files';
import { planRetention } from './retention';

const now = new Date('2026-11-24T03:00:00Z');
const daysAgo = (d: number, good: boolean): FoundBackup => {
  const time = new Date(now.getTime() - d * 86_400_000);
  return { stem: `b${d}`, time, good, files: [] };
};
const removed = (backups: FoundBackup[], days = 7) => planRetention(backups, now, days).remove.map((b) => b.stem);

describe('planRetention', () => {
  it('deletes backups older than the retention window and keeps the recent ones', () => {
    const all = [10, 9, 8, 6, 3, 1, 0].map((d) => daysAgo(d, true));
    expect(removed(all)).toEqual(['b10', 'b9', 'b8']);
  });

  it('keeps the newest good backup however old when every recent backup failed', () => {
    const all = [daysAgo(30, true), daysAgo(20, true), daysAgo(5, false), daysAgo(1, false)];
    expect(removed(all)).toEqual(['b30']);
    expect(planRetention(all, now, 7).keep).toContainEqual({ stem: 'b20', reason: 'newest good backup' });
  });

  it('keeps the newest backup even when it is older than the window', () => {
    expect(removed([daysAgo(40, false), daysAgo(12, false)])).toEqual(['b40']);
  });

  it('with zero days keeps only the newest backup and the newest good one', () => {
    expect(removed([daysAgo(3, true), daysAgo(2, true), daysAgo(1, false)], 0)).toEqual(['b3']);
  });
});
