import type { FitsValue } from './fits-header';

/** What a FITS image header says of its coverage: the ObsCore columns s_fov, s_region, s_resolution, em_res_power, pol_states. */
export interface FitsCoverage {
  /** Largest angular distance between two corners of the footprint (its diagonal), degrees. */
  fov_deg: number | null;
  /** The footprint as an STC-S polygon, vertices counter-clockwise on the sky as DALI requires. */
  region: string | null;
  /** Beam major axis (BMAJ), arcseconds. */
  resolution_arcsec: number | null;
  /** Spectral resolving power ν/Δν of one channel of the FREQ axis. */
  res_power: number | null;
  /** Polarisation states of the STOKES axis in ObsCore's form and order, e.g. "/I/Q/U/V/". */
  pol_states: string | null;
}

type Cards = Map<string, FitsValue>;

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;
const num = (v: FitsValue | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: FitsValue | undefined) => (typeof v === 'string' ? v.trim().toUpperCase() : '');

/**
 * Native latitude θ (degrees) from the radius R (degrees) in the plane of a zenithal projection
 * (WCS Paper II §5.1), for the projections Ferry reads; the footprint of any other is not computed.
 * SIN is the plain orthographic one only: with PV2_1/PV2_2 (NCP, slant) it is left out.
 */
const ZENITHAL: Record<string, (r: number) => number> = {
  TAN: (r) => Math.atan2(R2D, r) * R2D,
  SIN: (r) => Math.acos(Math.min(1, r * D2R)) * R2D,
  ARC: (r) => 90 - r,
  STG: (r) => 90 - 2 * Math.atan(r * D2R / 2) * R2D,
  ZEA: (r) => 90 - 2 * Math.asin(Math.min(1, r * D2R / 2)) * R2D,
};

/** The FITS axis (1-based) whose CTYPE passes `test`, or 0. */
function axisWhere(cards: Cards, naxis: number, test: (ctype: string) => boolean): number {
  for (let i = 1; i <= naxis; i++) if (test(str(cards.get(`CTYPE${i}`)))) return i;
  return 0;
}

/** Element (i, j) of the linear transform to intermediate world coordinates: CDi_j, else PCi_j × CDELTi. */
function cd(cards: Cards, i: number, j: number): number {
  const direct = num(cards.get(`CD${i}_${j}`));
  if (direct !== null) return direct;
  if ([...cards.keys()].some((k) => k.startsWith('CD') && /^CD\d+_\d+$/.test(k))) return 0;
  const pc = num(cards.get(`PC${i}_${j}`)) ?? (i === j ? 1 : 0);
  return pc * (num(cards.get(`CDELT${i}`)) ?? 1);
}

/** The pixel (1-based FITS coordinates along the RA and Dec axes) as (ra, dec) in degrees, or null. */
type PixelToSky = (p1: number, p2: number) => [number, number] | null;

/** World coordinates of the celestial axes for a zenithal projection (WCS Papers I and II), or null when Ferry cannot compute them. */
function celestial(cards: Cards, naxis: number): { ia: number; id: number; toSky: PixelToSky; det: number } | null {
  const ia = axisWhere(cards, naxis, (c) => c.startsWith('RA--'));
  const id = axisWhere(cards, naxis, (c) => c.startsWith('DEC-'));
  if (!ia || !id) return null;
  const proj = str(cards.get(`CTYPE${ia}`)).slice(5, 8);
  const theta = ZENITHAL[proj];
  if (!theta || proj !== str(cards.get(`CTYPE${id}`)).slice(5, 8)) return null;
  if (proj === 'SIN' && ((num(cards.get(`PV${id}_1`)) ?? 0) !== 0 || (num(cards.get(`PV${id}_2`)) ?? 0) !== 0)) return null;
  const a0 = num(cards.get(`CRVAL${ia}`));
  const d0 = num(cards.get(`CRVAL${id}`));
  const r1 = num(cards.get(`CRPIX${ia}`));
  const r2 = num(cards.get(`CRPIX${id}`));
  if (a0 === null || d0 === null || r1 === null || r2 === null) return null;
  const m = [cd(cards, ia, ia), cd(cards, ia, id), cd(cards, id, ia), cd(cards, id, id)] as const;
  const det = m[0] * m[3] - m[1] * m[2];
  if (det === 0) return null;
  // θ0 = 90° for zenithal projections, so the native pole is at the reference point and LONPOLE
  // defaults to 180° (0° when δ0 ≥ 90°).
  const phiP = (num(cards.get('LONPOLE')) ?? (d0 >= 90 ? 0 : 180)) * D2R;
  const sd0 = Math.sin(d0 * D2R);
  const cd0 = Math.cos(d0 * D2R);
  const toSky: PixelToSky = (p1, p2) => {
    const x = m[0] * (p1 - r1) + m[1] * (p2 - r2);
    const y = m[2] * (p1 - r1) + m[3] * (p2 - r2);
    const r = Math.hypot(x, y);
    if (proj === 'SIN' && r * D2R > 1) return null;
    const phi = Math.atan2(x, -y);
    const th = theta(r) * D2R;
    const dphi = phi - phiP;
    const dec = Math.asin(Math.max(-1, Math.min(1, Math.sin(th) * sd0 + Math.cos(th) * cd0 * Math.cos(dphi)))) * R2D;
    const ra = a0 + Math.atan2(-Math.cos(th) * Math.sin(dphi), Math.sin(th) * cd0 - Math.cos(th) * sd0 * Math.cos(dphi)) * R2D;
    return [((ra % 360) + 360) % 360, dec];
  };
  return { ia, id, toSky, det };
}

/** Angular distance between two positions, degrees (haversine, exact at small separations). */
function separation([a1, d1]: [number, number], [a2, d2]: [number, number]): number {
  const h = Math.sin(((d2 - d1) * D2R) / 2) ** 2 + Math.cos(d1 * D2R) * Math.cos(d2 * D2R) * Math.sin(((a2 - a1) * D2R) / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h))) * R2D;
}

/** The frame of the equatorial axes: RADESYS, else by EQUINOX (before 1984 FK4, else FK5), else ICRS (WCS Paper II §3.1). */
function frame(cards: Cards): string {
  const sys = str(cards.get('RADESYS') ?? cards.get('RADECSYS'));
  if (['ICRS', 'FK5', 'FK4'].includes(sys)) return sys;
  const equinox = num(cards.get('EQUINOX')) ?? num(cards.get('EPOCH'));
  if (equinox === null) return 'ICRS';
  return equinox < 1984 ? 'FK4' : 'FK5';
}

const fixed = (v: number) => String(Number(v.toFixed(9)));

function footprint(cards: Cards, naxis: number): Pick<FitsCoverage, 'fov_deg' | 'region'> {
  const wcs = celestial(cards, naxis);
  const n1 = wcs && num(cards.get(`NAXIS${wcs.ia}`));
  const n2 = wcs && num(cards.get(`NAXIS${wcs.id}`));
  if (!wcs || !n1 || !n2) return { fov_deg: null, region: null };
  // The outer edges of the corner pixels, in astropy's calc_footprint(center=False) order.
  const corners = [[0.5, 0.5], [0.5, n2 + 0.5], [n1 + 0.5, n2 + 0.5], [n1 + 0.5, 0.5]].map(([p1, p2]) => wcs.toSky(p1!, p2!));
  if (corners.some((c) => c === null)) return { fov_deg: null, region: null };
  const sky = corners as Array<[number, number]>;
  let fov = 0;
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) fov = Math.max(fov, separation(sky[i]!, sky[j]!));
  // With the usual orientation (RA growing to the left, det < 0) that order runs clockwise on the sky.
  const ccw = wcs.det < 0 ? [sky[0]!, sky[3]!, sky[2]!, sky[1]!] : sky;
  return { fov_deg: fov, region: `POLYGON ${frame(cards)} ${ccw.map(([a, d]) => `${fixed(a)} ${fixed(d)}`).join(' ')}` };
}

/** FITS Stokes codes (WCS Paper I table 7) in the order ObsCore 1.1 lists polarisation states. */
const STOKES: Array<[number, string]> = [[1, 'I'], [2, 'Q'], [3, 'U'], [4, 'V'], [-1, 'RR'], [-2, 'LL'], [-3, 'RL'], [-4, 'LR'], [-5, 'XX'], [-6, 'YY'], [-7, 'XY'], [-8, 'YX']];

function polStates(cards: Cards, naxis: number): string | null {
  const a = axisWhere(cards, naxis, (c) => c === 'STOKES');
  if (!a) return null;
  const n = num(cards.get(`NAXIS${a}`)) ?? 0;
  const crval = num(cards.get(`CRVAL${a}`));
  if (n < 1 || crval === null) return null;
  const crpix = num(cards.get(`CRPIX${a}`)) ?? 1;
  const step = cd(cards, a, a);
  const codes = new Set<number>();
  for (let i = 1; i <= n; i++) codes.add(Math.round(crval + (i - crpix) * step));
  const names = STOKES.filter(([code]) => codes.has(code)).map(([, name]) => name);
  return names.length === codes.size ? `/${names.join('/')}/` : null;
}

const FREQ_UNITS: Record<string, number> = { HZ: 1, KHZ: 1e3, MHZ: 1e6, GHZ: 1e9 };

function resPower(cards: Cards, naxis: number): number | null {
  const a = axisWhere(cards, naxis, (c) => c.startsWith('FREQ'));
  if (!a) return null;
  const scale = FREQ_UNITS[str(cards.get(`CUNIT${a}`)) || 'HZ'];
  const freq = num(cards.get(`CRVAL${a}`));
  const width = Math.abs(cd(cards, a, a));
  if (scale === undefined || freq === null || width === 0) return null;
  return Math.abs(freq) / width;
}

/**
 * The coverage of the image whose header is `cards`: footprint (zenithal projections of RA/Dec:
 * TAN, SIN, ARC, STG, ZEA), beam, channel resolving power and polarisation states. A value the
 * header does not give, or gives in a form Ferry does not read, is null.
 */
export function extractFitsCoverage(cards: Cards, naxis: number): FitsCoverage {
  const bmaj = num(cards.get('BMAJ'));
  return {
    ...footprint(cards, naxis),
    resolution_arcsec: bmaj !== null && bmaj > 0 ? bmaj * 3600 : null,
    res_power: resPower(cards, naxis),
    pol_states: polStates(cards, naxis),
  };
}
