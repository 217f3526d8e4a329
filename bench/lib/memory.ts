import fs from 'node:fs/promises';

/**
 * Peak resident set size (VmHWM) of a live process, in bytes, with its children's added: an api
 * with API_WORKERS > 1 is a cluster primary and its workers.
 */
export async function peakRss(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!m) return undefined;
  const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  const theirs = await Promise.all(children.map((c) => peakRss(c)));
  return Number(m[1]) * 1024 + theirs.reduce<number>((sum, r) => sum + (r ?? 0), 0);
}
