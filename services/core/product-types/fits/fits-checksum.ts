import type { CopyObserver } from '../../publish/copy-and-hash';
import type { FitsHdu } from './fits-inspect';
import { addOnes, ONES_MINUS_ZERO, onesSum } from './ones-sum';
import { allocateSummable, isSummable, sumOnThread } from './ones-sum-thread';

/**
 * Pieces at least this long are summed on the summing thread while the event loop hashes the next
 * bytes; shorter ones here, where the sum costs less than a message to the thread and back.
 */
const THREAD_MIN_BYTES = 1024 * 1024;

interface HduSums {
  hdu: FitsHdu;
  /** Ones'-complement sum of the HDU's header so far. */
  header: number;
  /** Ones'-complement sum of the HDU's data so far: DATASUM. */
  data: number;
}

/**
 * Verifies DATASUM and CHECKSUM of every HDU that carries them, fed the same buffers the copy
 * hashes, in file order (one pass, no second read). Word alignment holds across buffers because
 * HDUs start on 2880-byte blocks; a buffer that splits a word is carried over. The copy reads into
 * shared buffers this observer allocates, so a large piece is summed on the summing thread in
 * place (with SIMD) while the event loop hashes the next one; the copy refills a buffer only once
 * its sum is in. Short pieces, and pieces joined to a carried-over word, are summed here.
 */
export class FitsChecksumObserver implements CopyObserver {
  private readonly sums: HduSums[];
  private pos = 0;
  private carry = Buffer.alloc(0);

  constructor(hdus: FitsHdu[]) {
    this.sums = hdus
      .filter((h) => h.header.cards.has('CHECKSUM') || h.header.cards.has('DATASUM'))
      .map((hdu) => ({ hdu, header: 0, data: 0 }));
  }

  /** True when some HDU carries a checksum: otherwise the copy need not be observed at all. */
  get active(): boolean {
    return this.sums.length > 0;
  }

  /** Read buffers the summing thread can see without a copy. */
  allocate(bytes: number): Buffer {
    return allocateSummable(bytes);
  }

  /** Feeds the next bytes of the file; settles once the piece's memory is no longer read. */
  async observe(piece: Buffer): Promise<void> {
    let buf = piece;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, piece]);
      this.carry = Buffer.alloc(0);
    }
    const whole = buf.length - (buf.length % 4);
    if (whole < buf.length) this.carry = Buffer.from(buf.subarray(whole));
    const from = this.pos;
    const to = from + whole;
    this.pos = to;
    // Byte ranges of buf to sum, with the sum each one goes to.
    const ranges: Array<[number, number]> = [];
    const into: Array<{ s: HduSums; key: 'header' | 'data' }> = [];
    const add = (s: HduSums, key: 'header' | 'data', start: number, end: number) => {
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (a >= b) return;
      ranges.push([a - from, b - from]);
      into.push({ s, key });
    };
    // Header and data apart, each byte summed once: the CHECKSUM sum is their ones'-complement sum.
    for (const s of this.sums) {
      const dataStart = s.hdu.offset + s.hdu.header.headerBytes;
      add(s, 'header', s.hdu.offset, dataStart);
      add(s, 'data', dataStart, s.hdu.end);
    }
    if (ranges.length === 0) return;
    const results = await this.sumRanges(buf, ranges);
    results.forEach((sum, i) => {
      const { s, key } = into[i]!;
      s[key] = addOnes(s[key], sum);
    });
  }

  private sumRanges(buf: Buffer, ranges: Array<[number, number]>): Promise<number[]> | number[] {
    if (isSummable(buf) && buf.length >= THREAD_MIN_BYTES) return sumOnThread(buf, ranges);
    // Uint32Array needs a 4-aligned offset: a piece that is not gets an aligned copy.
    const aligned = buf.byteOffset % 4 === 0 ? buf : Buffer.from(new Uint8Array(buf).buffer);
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
    return ranges.map(([a, b]) => onesSum(words, a >>> 2, b >>> 2));
  }

  /** What failed, one line per problem (empty when every carried checksum holds). */
  problems(): string[] {
    const out: string[] = [];
    for (const s of this.sums) {
      const index = s.hdu.offset === 0 ? 'primary HDU' : `HDU at byte ${s.hdu.offset}`;
      const datasum = s.hdu.header.cards.get('DATASUM');
      if (datasum !== undefined && datasum !== null && datasum !== '') {
        const declared = Number(datasum);
        if (!Number.isFinite(declared) || declared !== s.data) {
          out.push(`${index}: DATASUM is ${String(datasum)} but the data sum to ${s.data}`);
        }
      }
      if (s.hdu.header.cards.has('CHECKSUM') && addOnes(s.header, s.data) !== ONES_MINUS_ZERO) {
        out.push(`${index}: CHECKSUM verification failed (the HDU does not sum to -0)`);
      }
    }
    return out;
  }
}
