import type { FitsHdu } from './fits-inspect';

/** 2^32 − 1: ones'-complement 32-bit addition is addition modulo this, with −0 kept apart from +0. */
const M = 0xffffffff;
/** Words summed before folding: 2^20 words of < 2^32 stay below 2^53, exact in a double. */
const SLICE_WORDS = 1 << 20;

/** A running ones'-complement sum of big-endian 32-bit words (FITS Checksum convention, FITS 4.0 appendix J). */
class OnesSum {
  private acc = 0;
  private any = false;

  add(view: DataView, start: number, end: number): void {
    for (let s = start; s < end; s += SLICE_WORDS * 4) {
      const stop = Math.min(end, s + SLICE_WORDS * 4);
      let sum = 0;
      for (let i = s; i < stop; i += 4) sum += view.getUint32(i);
      if (sum !== 0) this.any = true;
      this.acc = (this.acc + (sum % M)) % M;
    }
  }

  /** The 32-bit value: 0 only when every word was 0; a non-zero multiple of 2^32−1 is −0 (0xffffffff). */
  value(): number {
    if (!this.any) return 0;
    return this.acc === 0 ? M : this.acc;
  }
}

interface HduSums {
  hdu: FitsHdu;
  all: OnesSum;
  data: OnesSum;
}

/**
 * Verifies DATASUM and CHECKSUM of every HDU that carries them, fed the same buffers the copy
 * hashes, in file order (one pass, no second read). Word alignment holds across buffers because
 * HDUs start on 2880-byte blocks; a buffer that splits a word is carried over.
 */
export class FitsChecksumObserver {
  private readonly sums: HduSums[];
  private pos = 0;
  private carry = Buffer.alloc(0);

  constructor(hdus: FitsHdu[]) {
    this.sums = hdus
      .filter((h) => h.header.cards.has('CHECKSUM') || h.header.cards.has('DATASUM'))
      .map((hdu) => ({ hdu, all: new OnesSum(), data: new OnesSum() }));
  }

  /** True when some HDU carries a checksum: otherwise the copy need not call observe at all. */
  get active(): boolean {
    return this.sums.length > 0;
  }

  /** Feeds the next bytes of the file. */
  observe(piece: Buffer): void {
    let buf = piece;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, piece]);
      this.carry = Buffer.alloc(0);
    }
    const whole = buf.length - (buf.length % 4);
    if (whole < buf.length) this.carry = Buffer.from(buf.subarray(whole));
    const view = new DataView(buf.buffer, buf.byteOffset, whole);
    const from = this.pos;
    const to = from + whole;
    for (const s of this.sums) {
      const dataStart = s.hdu.offset + s.hdu.header.headerBytes;
      const a = Math.max(from, s.hdu.offset);
      const b = Math.min(to, s.hdu.end);
      if (a < b) s.all.add(view, a - from, b - from);
      const da = Math.max(from, dataStart);
      if (da < b) s.data.add(view, da - from, b - from);
    }
    this.pos = to;
  }

  /** What failed, one line per problem (empty when every carried checksum holds). */
  problems(): string[] {
    const out: string[] = [];
    for (const s of this.sums) {
      const index = s.hdu.offset === 0 ? 'primary HDU' : `HDU at byte ${s.hdu.offset}`;
      const datasum = s.hdu.header.cards.get('DATASUM');
      if (datasum !== undefined && datasum !== null && datasum !== '') {
        const declared = Number(datasum);
        if (!Number.isFinite(declared) || declared !== s.data.value()) {
          out.push(`${index}: DATASUM is ${String(datasum)} but the data sum to ${s.data.value()}`);
        }
      }
      if (s.hdu.header.cards.has('CHECKSUM') && s.all.value() !== M) {
        out.push(`${index}: CHECKSUM verification failed (the HDU does not sum to -0)`);
      }
    }
    return out;
  }
}
