import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { addOnes, instantiateOnesSum, ONES_MINUS_ZERO, onesSum, onesSumWasm } from './ones-sum';
import { allocateSummable, onesSumThreadRunning, stopOnesSumThread, sumOnThread } from './ones-sum-thread';
import { ONES_SUM_WASM } from './ones-sum-wasm';

/** The FITS standard's definition, word by word: big-endian words added with end-around carry. */
function reference(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    sum += bytes.readUInt32BE(i);
    if (sum > ONES_MINUS_ZERO) sum -= ONES_MINUS_ZERO;
  }
  return sum;
}

const words = (b: Buffer) => new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);

/** Buffers that reach every branch: random, all zero (+0), all ones (−0), sparse, and lengths off the 128-word block. */
function samples(): Buffer[] {
  const out: Buffer[] = [];
  for (const n of [0, 4, 508, 512, 516, 4096 + 12, 65_536]) {
    out.push(Buffer.from(crypto.randomBytes(n)));
    out.push(Buffer.alloc(n));
    out.push(Buffer.alloc(n, 0xff));
    const sparse = Buffer.alloc(n);
    for (let i = 0; i < n; i += 7) sparse[i] = 0xff;
    out.push(sparse);
  }
  // Two words that sum to exactly 2^32 − 1: a non-zero sum ≡ 0, which is −0, never +0.
  out.push(Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]));
  return out;
}

describe('ones\'-complement sum of big-endian words', () => {
  afterAll(() => stopOnesSumThread());

  it('equals the word-by-word end-around-carry sum', () => {
    for (const b of samples()) {
      const w = words(b);
      expect({ len: b.length, sum: onesSum(w, 0, w.length) }).toEqual({ len: b.length, sum: reference(b) });
    }
    expect(onesSum(words(Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff])), 0, 2)).toBe(ONES_MINUS_ZERO);
    expect(onesSum(words(Buffer.alloc(64)), 0, 16)).toBe(0);
  });

  it('adds partial sums of any split to the sum of the whole', () => {
    const b = Buffer.from(crypto.randomBytes(40_000));
    const w = words(b);
    for (const cut of [0, 1, 127, 128, 129, 5000, w.length]) {
      expect(addOnes(onesSum(w, 0, cut), onesSum(w, cut, w.length))).toBe(reference(b));
    }
  });

  it('sums with SIMD exactly as word by word: every sample at offsets 0-12, and 16-bit halves full to the brim', () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
    const buf = Buffer.from(memory.buffer);
    const wasm = instantiateOnesSum(new WebAssembly.Module(Buffer.from(ONES_SUM_WASM, 'base64')), memory);
    // The sample at `at`, between bytes that would change the sum if the range were read wrong.
    const summed = (b: Buffer, at: number) => {
      buf.fill(0x5a);
      b.copy(buf, at);
      return onesSumWasm(wasm, at, at + b.length);
    };
    for (const b of samples()) {
      for (const at of [0, 4, 8, 12]) expect({ len: b.length, at, sum: summed(b, at) }).toEqual({ len: b.length, at, sum: reference(b) });
    }
    // 0xff everywhere: a block of 256 vectors brings each 16-bit half to 65,280, the most it may hold.
    for (const n of [4096 * 4, 4096 * 4 + 12, 4096 * 8 - 4]) {
      expect(summed(Buffer.alloc(n, 0xff), 0)).toBe(reference(Buffer.alloc(n, 0xff)));
    }
  });

  it('sums shared buffers on the summing thread, range by range, as the event loop does', async () => {
    const shared = allocateSummable(3 * 1024 * 1024);
    crypto.randomFillSync(shared);
    const ranges: Array<[number, number]> = [[0, shared.length], [2880, 2 * 1024 * 1024], [1024 * 1024 + 4, 1024 * 1024 + 8], [12, 12]];
    const got = await sumOnThread(shared, ranges);
    expect(onesSumThreadRunning()).toBe(true);
    expect(got).toEqual(ranges.map(([a, b]) => reference(shared.subarray(a, b))));
    // A piece at an offset inside the buffer sums relative to its own start.
    const piece = shared.subarray(4096, 4096 + 2880 * 10);
    expect(await sumOnThread(piece, [[0, piece.length]])).toEqual([reference(piece)]);
  });

  it('refuses a buffer the summing thread cannot see', () => {
    expect(() => sumOnThread(Buffer.from(new SharedArrayBuffer(64)), [[0, 64]])).toThrow(/allocateSummable/);
  });

  it('runs the SIMD sum compiled from ones-sum.wat as it stands', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../../../../scripts/generate-wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
