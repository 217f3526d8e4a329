import { spawn, type SpawnOptions } from 'node:child_process';

/** Runs a command to completion; rejects with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/** Seconds elapsed since a process.hrtime.bigint() reading. */
export function since(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Runs `sh -c script` and returns its wall-clock seconds. */
export async function timeShell(script: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run('sh', ['-c', script]);
  return since(t0);
}

/** Single-quotes a path for sh. */
export function sq(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const median = (xs: number[]): number => quantile(xs, 0.5);

/** Repeats a measurement n times, calling prepare(i) before each (untimed), and returns the median. */
export async function medianOf(n: number, prepare: (i: number) => Promise<unknown>, measure: (i: number) => Promise<number>): Promise<number> {
  const results: number[] = [];
  for (let i = 0; i < n; i++) {
    await prepare(i);
    results.push(await measure(i));
  }
  return median(results);
}

/** Whether a command is on PATH. */
export async function have(cmd: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${cmd}`]).then(() => true, () => false);
}
