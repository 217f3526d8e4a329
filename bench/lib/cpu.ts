import fs from 'node:fs/promises';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** utime + stime, in seconds, from the text of a /proc/<pid>/stat (undefined when unreadable). */
function statCpuSeconds(stat: string): number | undefined {
  // Fields after the command name (which may hold spaces), from field 3 (state): utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : undefined;
}

/** CPU seconds (utime + stime over all threads) of a process, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  return statCpuSeconds(await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

/** The CPU seconds used so far by each party to a run, and the seconds the machine's cores stood idle. */
export interface CpuSnapshot {
  worker: number;
  api: number;
  postgres: number;
  redis: number;
  /** This process: the load generator. */
  bench: number;
  /** All cores idle or waiting for I/O. */
  idle: number;
}

/**
 * CPU seconds of the live processes whose command name starts with each of `prefixes` (PostgreSQL's
 * backends, say), summed per prefix, in one pass over /proc.
 */
async function cpuByCommand<P extends string>(prefixes: readonly P[]): Promise<Record<P, number>> {
  const sums = Object.fromEntries(prefixes.map((p) => [p, 0])) as Record<P, number>;
  const pids = (await fs.readdir('/proc')).filter((p) => /^\d+$/.test(p));
  await Promise.all(pids.map(async (pid) => {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const prefix = comm ? prefixes.find((p) => comm.startsWith(p)) : undefined;
    if (prefix !== undefined) sums[prefix] += statCpuSeconds(stat) ?? 0;
  }));
  return sums;
}

/**
 * Where the machine's CPU has gone so far. PostgreSQL is every `postgres` process (its backends,
 * WAL writer, checkpointer): a backend that exits between two snapshots takes its time with it
 * (the api's and the worker's pools keep theirs while they are busy).
 */
export async function cpuSnapshot(pids: { api?: number; worker?: number }): Promise<CpuSnapshot> {
  const [worker, api, { postgres, 'redis-server': redis }, stat] = await Promise.all([
    cpuSeconds(pids.worker), cpuSeconds(pids.api), cpuByCommand(['postgres', 'redis-server']),
    fs.readFile('/proc/stat', 'utf8'),
  ]);
  // The machine's line: user nice system idle iowait ..., in ticks.
  const ticks = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const usage = process.cpuUsage();
  return {
    worker: worker ?? 0, api: api ?? 0, postgres, redis, bench: (usage.user + usage.system) / 1e6,
    idle: (ticks[3]! + ticks[4]!) / USER_HZ,
  };
}

/** Milliseconds of CPU per item between two snapshots, by party, and of idle cores: the row's `cpu_ms_*` figures. */
export function cpuMsPerItem(before: CpuSnapshot, after: CpuSnapshot, items: number): Record<string, number> {
  const per = (k: keyof CpuSnapshot) => ((after[k] - before[k]) * 1000) / items;
  return {
    cpu_ms_worker: per('worker'), cpu_ms_api: per('api'), cpu_ms_postgres: per('postgres'), cpu_ms_redis: per('redis'),
    cpu_ms_loadgen: per('bench'), cpu_ms_idle: per('idle'),
  };
}
