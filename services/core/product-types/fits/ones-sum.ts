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
  return fromLanes(even, odd, LITTLE_ENDIAN, any);
}

/**
 * The sum from its two byte-lane totals reduced modulo 2^32 − 1, for words read in little- or
 * big-endian order. `nonZero` says whether any word was non-zero: the reduced totals cannot tell
 * +0 (0, every word 0) from −0 (2^32 − 1, a non-zero multiple of 2^32 − 1).
 */
export function fromLanes(even: number, odd: number, littleEndian: boolean, nonZero: boolean): number {
  if (!nonZero) return 0;
  const sum = (rotl(even, littleEndian ? 24 : 0) + rotl(odd, littleEndian ? 16 : 8)) % M;
  return sum === 0 ? M : sum;
}

/** Ones'-complement addition of two sums in onesSum's form. */
export function addOnes(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  const sum = (a + b) % M;
  return sum === 0 ? M : sum;
}

/**
 * The SIMD form of the same arithmetic (ones-sum.wat, about ten times the speed of onesSum here, see
 * docs/performance.md): lanes(p, n) gives the byte-lane totals of the n little-endian words at byte
 * offset p of the memory it was instantiated with.
 */
export interface OnesSumWasm {
  lanes(byteOffset: number, words: number): [number, number];
}

/** Words per call of lanes: each lane total then stays below 2^48, exact in a double. */
const WASM_SPAN = 1 << 24;

/** The sum of the bytes [start, end) (word-aligned) of the memory `wasm` was instantiated with. */
export function onesSumWasm(wasm: OnesSumWasm, start: number, end: number): number {
  let even = 0;
  let odd = 0;
  let any = false;
  for (let p = start; p < end; p += WASM_SPAN * 4) {
    const [e, o] = wasm.lanes(p, Math.min(WASM_SPAN, (end - p) >>> 2));
    if (e !== 0 || o !== 0) any = true;
    even = (even + (e % M)) % M;
    odd = (odd + (o % M)) % M;
  }
  // WebAssembly memory is little-endian on every host.
  return fromLanes(even, odd, true, any);
}

/** Instantiates the compiled ones-sum.wat over a shared memory: cheap (tens of microseconds). */
export function instantiateOnesSum(module: WebAssembly.Module, memory: WebAssembly.Memory): OnesSumWasm {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as OnesSumWasm;
}

/** Sums a request's ranges where the caller runs (the thread, or the event loop as its fallback). */
export function sumRequest(module: WebAssembly.Module, req: OnesSumRequest): number[] {
  const wasm = instantiateOnesSum(module, req.memory);
  return req.ranges.map(([a, b]) => onesSumWasm(wasm, req.byteOffset + a, req.byteOffset + b));
}

/** What the thread is started with: this tag, and the compiled ones-sum.wat. */
export const ONES_SUM_THREAD = 'ferry-ones-sum';
export interface OnesSumThreadData {
  kind: typeof ONES_SUM_THREAD;
  module: WebAssembly.Module;
}

/** A request: byte ranges [start, end) of a shared memory, word-aligned, relative to `byteOffset`. */
export interface OnesSumRequest {
  id: number;
  memory: WebAssembly.Memory;
  byteOffset: number;
  ranges: Array<[number, number]>;
}

/** The reply: one sum per range, in order. */
export interface OnesSumReply {
  id: number;
  sums: number[];
}

const threadData = workerData as OnesSumThreadData | undefined;
if (parentPort && threadData?.kind === ONES_SUM_THREAD) {
  const port = parentPort;
  const module = threadData.module;
  port.on('message', (req: OnesSumRequest) => {
    port.postMessage({ id: req.id, sums: sumRequest(module, req) } satisfies OnesSumReply);
  });
}
