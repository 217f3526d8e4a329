import { extractFitsCoverage, type FitsCoverage } from './fits-coverage';
import type { FitsValue } from './fits-header';
import type { FitsHdu } from './fits-inspect';

/** What Ferry reads from a FITS header and stores with the product (docs/product-types.md). */
export interface FitsMetadata extends FitsCoverage {
  obs_start: string | null;
  obs_end: string | null;
  ra_deg: number | null;
  dec_deg: number | null;
  freq_hz: number | null;
  telescope: string | null;
  instrument: string | null;
  object: string | null;
  shape: number[];
  bitpix: number | null;
  units: string | null;
  /** Whether the primary HDU carried CHECKSUM/DATASUM (verified during the copy). */
  checksummed: boolean;
}

const MJD_UNIX_EPOCH = 40587;
const FREQ_UNITS: Record<string, number> = { HZ: 1, KHZ: 1e3, MHZ: 1e6, GHZ: 1e9 };

const num = (v: FitsValue | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: FitsValue | undefined) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

function mjdToIso(mjd: number): string {
  return new Date(Math.round((mjd - MJD_UNIX_EPOCH) * 86400 * 1000)).toISOString();
}

/** An ISO date or date-time (FITS 4.0 §4.4.2.6); read as UTC, which is how DSA-110 and most radio data write it. */
function isoToIso(v: string | null): string | null {
  if (!v || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?$/.test(v)) return null;
  const t = Date.parse(v.includes('T') ? `${v}Z` : `${v}T00:00:00Z`);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** The axis whose CTYPE starts with `prefix` (e.g. 'RA--', 'DEC-', 'FREQ'), 1-based, or 0. */
function axis(cards: Map<string, FitsValue>, naxis: number, test: (ctype: string) => boolean): number {
  for (let i = 1; i <= naxis; i++) {
    const c = str(cards.get(`CTYPE${i}`));
    if (c && test(c.toUpperCase())) return i;
  }
  return 0;
}

/**
 * Observation time, position, frequency and description from the headers: the primary HDU, or
 * for a file whose primary HDU has no data, the first HDU with data for what describes the image.
 * Position: OBSRA/OBSDEC or RA_PNT/DEC_PNT when given (the pointing), else the reference value of
 * the RA/DEC axes. Time: DATE-OBS, else MJD-OBS; end: DATE-END, MJD-END, or start + EXPTIME.
 * Footprint, beam, resolving power and polarisation from the image's header (fits-coverage.ts).
 */
export function extractFitsMetadata(hdus: FitsHdu[]): FitsMetadata {
  const primary = hdus[0]!.header.cards;
  const image = (hdus.find((h) => h.dataBytes > 0) ?? hdus[0]!).header.cards;
  const get = (k: string) => (primary.has(k) ? primary.get(k) : image.get(k));
  const naxis = num(image.get('NAXIS')) ?? 0;
  const shape: number[] = [];
  for (let i = 1; i <= naxis; i++) shape.push(num(image.get(`NAXIS${i}`)) ?? 0);

  const mjdObs = num(get('MJD-OBS'));
  const start = isoToIso(str(get('DATE-OBS'))) ?? (mjdObs !== null ? mjdToIso(mjdObs) : null);
  const mjdEnd = num(get('MJD-END'));
  const exptime = num(get('EXPTIME')) ?? num(get('TELAPSE'));
  const end = isoToIso(str(get('DATE-END'))) ?? (mjdEnd !== null ? mjdToIso(mjdEnd) : null)
    ?? (start && exptime !== null ? new Date(Date.parse(start) + exptime * 1000).toISOString() : start);

  let ra = num(get('OBSRA')) ?? num(get('RA_PNT'));
  let dec = num(get('OBSDEC')) ?? num(get('DEC_PNT'));
  if (ra === null || dec === null) {
    const ia = axis(image, naxis, (c) => c.startsWith('RA--') || c === 'RA');
    const id = axis(image, naxis, (c) => c.startsWith('DEC-') || c === 'DEC');
    ra = ia ? num(image.get(`CRVAL${ia}`)) : null;
    dec = id ? num(image.get(`CRVAL${id}`)) : null;
  }
  if (ra === null || dec === null || dec < -90 || dec > 90) {
    ra = null;
    dec = null;
  } else {
    ra = ((ra % 360) + 360) % 360;
  }

  const fa = axis(image, naxis, (c) => c.startsWith('FREQ'));
  let freq: number | null = null;
  if (fa) {
    const unit = (str(image.get(`CUNIT${fa}`)) ?? 'Hz').toUpperCase();
    const v = num(image.get(`CRVAL${fa}`));
    freq = v !== null && FREQ_UNITS[unit] !== undefined ? v * FREQ_UNITS[unit] : null;
  }
  freq ??= num(get('RESTFRQ')) ?? num(get('RESTFREQ'));

  return {
    obs_start: start,
    obs_end: end,
    ra_deg: ra,
    dec_deg: dec,
    freq_hz: freq,
    telescope: str(get('TELESCOP')),
    instrument: str(get('INSTRUME')),
    object: str(get('OBJECT')),
    shape,
    bitpix: num(image.get('BITPIX')),
    units: str(image.get('BUNIT')),
    checksummed: primary.has('CHECKSUM') || primary.has('DATASUM'),
    ...extractFitsCoverage(image, naxis),
  };
}
