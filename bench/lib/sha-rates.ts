import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { have, run, sq, timeShell } from './measure';

/**
 * SHA-256 throughput on this machine, MB (10^6 bytes) per CPU-second of one core: Node's crypto,
 * OpenSSL, coreutils. CPU time rather than wall-clock, as `openssl speed` reports it, so the three
 * compare even on a machine shared with other work (wall-clock would count time spent waiting).
 */
export interface ShaRates {
  node_mb_s: number;
  openssl_mb_s?: number;
  sha256sum_mb_s?: number;
}

const BYTES = 256 * 1024 * 1024;

/**
 * Measures what hashing costs here, so the large-file figures can be read against it: Node's
 * crypto (what Ferry uses, OpenSSL underneath, SHA-NI when the CPU has it) over 8 MiB buffers,
 * `openssl speed -evp sha256` (16 KiB blocks), and coreutils `sha256sum` of a cached file.
 */
export async function measureShaRates(workDir: string): Promise<ShaRates> {
  const buf = crypto.randomBytes(8 * 1024 * 1024);
  const c0 = process.cpuUsage();
  const h = crypto.createHash('sha256');
  for (let done = 0; done < BYTES; done += buf.length) h.update(buf);
  h.digest();
  const cpu = process.cpuUsage(c0);
  const rates: ShaRates = { node_mb_s: BYTES / ((cpu.user + cpu.system) / 1e6) / 1e6 };
  if (await have('openssl')) {
    const out = await run('openssl', ['speed', '-evp', 'sha256', '-bytes', '16384', '-seconds', '2']).catch(() => '');
    // The last line: "sha256  <rate for 16384-byte blocks, in 1000s of bytes/s>k"
    const m = /sha256\s+([\d.]+)k\s*$/m.exec(out);
    if (m) rates.openssl_mb_s = Number(m[1]) / 1000;
  }
  if (await have('sha256sum')) {
    const file = path.join(workDir, 'sha-rate.bin');
    await fs.mkdir(workDir, { recursive: true });
    await fs.writeFile(file, Buffer.concat(Array.from({ length: BYTES / buf.length }, () => buf)));
    await timeShell(`cat ${sq(file)} > /dev/null`);
    // bash's `time` prints the child's user and system CPU seconds.
    const out = await run('bash', ['-c', `TIMEFORMAT='%U %S'; { time sha256sum ${sq(file)} > /dev/null; } 2>&1`]);
    const [user, sys] = out.trim().split(/\s+/).map(Number);
    rates.sha256sum_mb_s = BYTES / 1e6 / ((user ?? 0) + (sys ?? 0));
    await fs.rm(file, { force: true });
  }
  return rates;
}
