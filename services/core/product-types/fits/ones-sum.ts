import { parentPort, workerData } from 'node:worker_threads';

// The FITS Checksum convention's arithmetic (FITS 4.0 appendix J), and the entry of the thread that
// runs it off the event loop (ones-sum-thread.ts). Self-contained, with no import of the project's
// own modules: Node runs this file as the thread's entry as it stands (compiled .js, or .ts with
// type stripping under the tests), and Node resolves no extension-less import of a .ts file.

/** 2^32 − 1: ones'-complement 32-bit addition is addition modulo this, with −0 kept apart from +0. */
export const ONES_MINUS_ZERO = 0xffffffff;
const M = ONES_MINUS_ZERO;

/** Words per inner block: 128 words of at most 0xff00ff each stay below 2^32, so the block sums in int32. */
const BLOCK = 128;
/** Words between two reductions modulo 2^32 − 1: 2^24 words of < 2^24 stay below 2^53, exact in a double. */
const REDUCE_EVERY = 1 << 24;

const rotl = (x: number, n: number) => (n === 0 ? x : ((x << n) | (x >>> (32 - n))) >>> 0);

/**
 * A 32-bit word read in host order as bytes a b c d (first to last in memory) is split into the
 * byte lanes (a, c) and (b, d), each summed exactly. The big-endian word's value is
 * a·2^24 + b·2^16 + c·2^8 + d, and modulo 2^32 − 1 a factor 2^k is a rotation by k bits, so the two
 * lane sums rotated give the big-endian sum without swapping a byte: two masks, a shift and two
 * adds per word (1.2–1.4× the speed of a per-word DataView.getUint32 big-endian read, see
 * docs/performance.md). The rotations depend on the host's byte order.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const EVEN_ROT = LITTLE_ENDIAN ? 24 : 0;
const ODD_ROT = LITTLE_ENDIAN ? 16 : 8;

/**
 * The ones'-complement sum of words[start, end) read as big-endian 32-bit words: 0 when every word
 * is 0, else a value in 1 … 2^32 − 1 where 2^32 − 1 stands for −0 (a non-zero multiple of 2^32 − 1).
 */
export function onesSum(words: Uint32Array, start: number, end: number): number {
  let even = 0;
  let odd = 0;
  let any = false;
  for (let r = start; r < end; r += REDUCE_EVERY) {
    const stop = Math.min(end, r + REDUCE_EVERY);
    let e = 0;
    let o = 0;
    for (let s = r; s < stop; s += BLOCK) {
      const blockEnd = Math.min(stop, s + BLOCK);
      let be = 0;
      let bo = 0;
      for (let i = s; i < blockEnd; i++) {
        const w = words[i]!;
        be = (be + (w & 0xff00ff)) | 0;
        bo = (bo + ((w >>> 8) & 0xff00ff)) | 0;
      }
      e += be >>> 0;
      o += bo >>> 0;
    }
    if (e !== 0 || o !== 0) any = true;
    even = (even + (e % M)) % M;
    odd = (odd + (o % M)) % M;
  }
  if (!any) return 0;
  const sum = (rotl(even, EVEN_ROT) + rotl(odd, ODD_ROT)) % M;
  return sum === 0 ? M : sum;
}

/** Ones'-complement addition of two sums in onesSum's form. */
export function addOnes(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  const sum = (a + b) % M;
  return sum === 0 ? M : sum;
}

/** The workerData that makes this module answer sum requests (ones-sum-thread.ts starts it so). */
export const ONES_SUM_THREAD = 'ferry-ones-sum';

/** A request: byte ranges [start, end) of a shared buffer, word-aligned, relative to `byteOffset`. */
export interface OnesSumRequest {
  id: number;
  buffer: SharedArrayBuffer;
  byteOffset: number;
  ranges: Array<[number, number]>;
}

/** The reply: one sum per range, in order. */
export interface OnesSumReply {
  id: number;
  sums: number[];
}

if (parentPort && workerData === ONES_SUM_THREAD) {
  const port = parentPort;
  port.on('message', (req: OnesSumRequest) => {
    const sums = req.ranges.map(([a, b]) => onesSum(new Uint32Array(req.buffer, req.byteOffset + a, (b - a) >>> 2), 0, (b - a) >>> 2));
    port.postMessage({ id: req.id, sums } satisfies OnesSumReply);
  });
}
