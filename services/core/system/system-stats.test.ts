import os from 'node:os';
import { createCpuSampler, diskUsage, memoryUsage } from './system-stats';

describe('system stats', () => {
  it('reports disk use of a directory with consistent totals and a level', async () => {
    const d = await diskUsage(os.tmpdir());
    expect(d.total).toBeGreaterThan(0);
    expect(d.used + d.free).toBeLessThanOrEqual(d.total);
    expect(d.percent).toBeGreaterThanOrEqual(0);
    expect(d.percent).toBeLessThanOrEqual(100);
    expect(d.level).toBe(d.percent >= 90 ? 'critical' : d.percent >= 80 ? 'warning' : 'ok');
  });

  it('fails for a directory that does not exist', async () => {
    await expect(diskUsage('/nonexistent/ferry')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports memory and a CPU percentage within range', async () => {
    const m = memoryUsage();
    expect(m.used + m.free).toBe(m.total);
    const cpu = createCpuSampler(20);
    for (const v of [await cpu(), await cpu()]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
  });
});
