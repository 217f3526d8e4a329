import fs from 'node:fs/promises';
import os from 'node:os';

/** Disk use of one file system, in bytes, with a level from the warning and critical thresholds. */
export interface DiskUsage {
  path: string;
  total: number;
  used: number;
  free: number;
  percent: number;
  level: 'ok' | 'warning' | 'critical';
}

/** Percent thresholds for disk levels: warning at 80 %, critical at 90 %. */
export const DISK_WARNING_PERCENT = 80;
export const DISK_CRITICAL_PERCENT = 90;

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Disk use of the file system holding `dir` (fs.statfs; `free` is what an unprivileged process may use). */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const s = await fs.statfs(dir);
  const total = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  // Used as df counts it: blocks not free to anyone; percent against what users can reach, as df does.
  const used = (s.blocks - s.bfree) * s.bsize;
  const percent = used + free > 0 ? round1((used / (used + free)) * 100) : 0;
  const level = percent >= DISK_CRITICAL_PERCENT ? 'critical' : percent >= DISK_WARNING_PERCENT ? 'warning' : 'ok';
  return { path: dir, total, used, free, percent, level };
}

/** Host memory in bytes and percent used (available memory counts as free). */
export function memoryUsage(): { total: number; used: number; free: number; percent: number } {
  const total = os.totalmem();
  const free = os.freemem();
  return { total, used: total - free, free, percent: round1(((total - free) / total) * 100) };
}

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Host CPU use in percent since the previous call (all cores together). The first call measures
 * over a short window so it never returns a since-boot average.
 */
export function createCpuSampler(firstWindowMs = 100): () => Promise<number> {
  let previous: CpuTimes | undefined;
  return async () => {
    if (!previous) {
      previous = cpuTimes();
      await new Promise((resolve) => setTimeout(resolve, firstWindowMs));
    }
    const now = cpuTimes();
    const total = now.total - previous.total;
    const idle = now.idle - previous.idle;
    previous = now;
    return total > 0 ? round1(Math.min(100, Math.max(0, (1 - idle / total) * 100))) : 0;
  };
}

/** The process's own memory (bytes) and uptime (seconds). */
export function processStats(): { rss: number; heap_used: number; heap_total: number; external: number; uptime_seconds: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heap_used: m.heapUsed, heap_total: m.heapTotal, external: m.external, uptime_seconds: Math.round(process.uptime()) };
}
