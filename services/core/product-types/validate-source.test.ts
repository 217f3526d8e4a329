import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { astroFixtures, type AstroFixtures } from '../../../test/support/astro-fixtures';
import { loadConfig } from '../config';
import { PublishError } from '../errors/publish-error';
import { copyAndHash } from '../publish/copy-and-hash';
import { openRoot } from '../publish/dir-handle';
import { scanTree } from '../publish/scan-source';
import { onesSumThreadRunning, stopOnesSumThread } from './fits/ones-sum-thread';
import type { ProductTypeDefinition } from './product-type.schema';
import { validateSource } from './validate-source';

jest.setTimeout(120_000);

/** The shipped defaults, loaded as the services load them. */
const defs = loadConfig('worker', {
  DATABASE_URL: 'postgres://unused@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1', STAGE_ROOT: '/s', PRODUCTS_ROOT: '/p',
  PRODUCT_TYPES_CONFIG: path.resolve(__dirname, '../../../config/product-types.yaml'),
}).products.definitions;

/**
 * Ferry's judgement of one fixture: the type's validators before the copy, then the checksum
 * observer fed by the same copy code the worker uses (hashing only, no destination).
 */
async function judge(fx: AstroFixtures, name: string, def: ProductTypeDefinition, chunkBytes = 4096 + 3, copyTo?: string): Promise<{ verdict: 'accept' | 'refuse'; why: string; extracted: Record<string, unknown> | null }> {
  const root = await openRoot(fx.dir);
  try {
    const snap = await scanTree(root, name, def.kind ?? 'file', name);
    const { extracted, observer } = await validateSource(def, { dir: root, name, label: name }, name, snap);
    if (snap.kind === 'file') {
      const out = copyTo ? await openRoot(copyTo) : undefined;
      try {
        // With a destination, every file is written directly (O_DIRECT), several writes in flight.
        await copyAndHash(root, name, out && { dir: out, name }, snap.entries[0]!, { observer, chunkBytes, directMinBytes: 1 });
      } finally {
        await out?.close();
      }
    }
    const problems = observer?.problems() ?? [];
    return problems.length > 0 ? { verdict: 'refuse', why: problems.join('; '), extracted } : { verdict: 'accept', why: '', extracted };
  } catch (err) {
    if (err instanceof PublishError && err.errorClass === 'invalid') return { verdict: 'refuse', why: err.message, extracted: null };
    throw err;
  } finally {
    await root.close();
  }
}

describe('product type validators against the field\'s own libraries', () => {
  let fx: AstroFixtures;
  beforeAll(async () => {
    fx = await astroFixtures();
  });
  afterAll(() => stopOnesSumThread());

  it('accepts or refuses every FITS fixture exactly as astropy verifies it', async () => {
    const names = Object.keys(fx.manifest).filter((n) => n.endsWith('.fits')).sort();
    expect(names.length).toBeGreaterThanOrEqual(25);
    const ours: Record<string, string> = {};
    const astropy: Record<string, string> = {};
    for (const name of names) {
      ours[name] = (await judge(fx, name, defs.image!)).verdict;
      astropy[name] = fx.manifest[name]!.verdict;
    }
    expect(ours).toEqual(astropy);
    // Both outcomes occur, with and without checksums: the comparison cannot pass vacuously.
    expect(Object.values(ours).filter((v) => v === 'refuse').length).toBeGreaterThanOrEqual(15);
    expect(ours['plain-corrupt-data.fits']).toBe('accept');
    expect(ours['summed-corrupt-data.fits']).toBe('refuse');
  });

  it('judges a FITS file read in pieces of over 1 MiB, summed on the summing thread, as astropy does', async () => {
    for (const name of ['large-summed.fits', 'large-summed-corrupt-data.fits']) {
      const got = await judge(fx, name, defs.image!, 8 * 1024 * 1024);
      expect({ name, verdict: got.verdict }).toEqual({ name, verdict: fx.manifest[name]!.verdict });
    }
    expect(onesSumThreadRunning()).toBe(true);
    expect((await judge(fx, 'large-summed-corrupt-data.fits', defs.image!, 8 * 1024 * 1024)).why).toMatch(/primary HDU: DATASUM is \d+ but the data sum to \d+/);
  });

  it('judges the same while the copy writes its buffers around the page cache, several writes in flight', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-fits-direct-'));
    try {
      for (const name of ['large-summed.fits', 'large-summed-corrupt-data.fits']) {
        const got = await judge(fx, name, defs.image!, 1024 * 1024, out);
        expect({ name, verdict: got.verdict }).toEqual({ name, verdict: fx.manifest[name]!.verdict });
        expect((await fs.readFile(path.join(out, name))).equals(await fs.readFile(path.join(fx.dir, name)))).toBe(true);
      }
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });

  it('names what is wrong with a refused FITS file', async () => {
    expect((await judge(fx, 'summed-corrupt-data.fits', defs.image!)).why).toMatch(/DATASUM is \d+ but the data sum to \d+; primary HDU: CHECKSUM verification failed/);
    expect((await judge(fx, 'plain-truncated.fits', defs.image!)).why).toMatch(/not a multiple of 2880/);
    expect((await judge(fx, 'plain-truncated-block.fits', defs.image!)).why).toMatch(/file ends 2880 bytes early \(truncated\)/);
    expect((await judge(fx, 'plain-padded-block.fits', defs.image!)).why).toMatch(/2880 bytes after the last HDU are not a FITS extension/);
    expect((await judge(fx, 'plain-broken-bitpix.fits', defs.image!)).why).toMatch(/BITPIX is -37/);
    expect((await judge(fx, 'plain-no-end.fits', defs.image!)).why).toMatch(/no END card/);
    expect((await judge(fx, 'multi-summed-corrupt-extension.fits', defs.image!)).why).toMatch(/HDU at byte \d+: DATASUM/);
  });

  it('extracts the observation time, position and description astropy reads', async () => {
    for (const name of ['plain.fits', 'summed.fits', 'mjd-only.fits', 'multi-summed.fits', 'img-far.fits']) {
      const want = fx.manifest[name]!;
      const { extracted } = await judge(fx, name, defs.image!);
      expect(extracted).not.toBeNull();
      // Milliseconds: what a PostgreSQL timestamptz and a JS Date keep of astropy's double.
      expect(Date.parse(extracted!.obs_start as string) / 1000).toBeCloseTo(want.obs_start_unix!, 3);
      expect(extracted!.ra_deg).toBeCloseTo(want.ra_deg!, 9);
      expect(extracted!.dec_deg).toBeCloseTo(want.dec_deg!, 9);
      expect(extracted).toMatchObject({ telescope: want.telescope, object: want.object, units: 'Jy/beam', freq_hz: 1.405e9, shape: [48, 64, 1] });
    }
  });

  it('extracts the footprint, field of view, beam, resolving power and polarisation astropy computes', async () => {
    const sep = ([a1, d1]: number[], [a2, d2]: number[]) => {
      const r = Math.PI / 180;
      const h = Math.sin(((d2! - d1!) * r) / 2) ** 2 + Math.cos(d1! * r) * Math.cos(d2! * r) * Math.sin(((a2! - a1!) * r) / 2) ** 2;
      return (2 * Math.asin(Math.sqrt(h))) / r;
    };
    // SIN (one across RA 0/360), TAN with a rotated CD matrix and a STOKES axis, an image in an extension.
    for (const name of ['summed.fits', 'mjd-only.fits', 'stokes-cd.fits', 'multi-summed.fits']) {
      const want = fx.manifest[name]!;
      const { extracted } = await judge(fx, name, defs.image!);
      const region = /^POLYGON (\w+)((?: \S+ \S+){4})$/.exec(extracted!.region as string);
      expect({ name, frame: region?.[1] }).toEqual({ name, frame: want.frame });
      const nums = region![2]!.trim().split(' ').map(Number);
      const vertices = [0, 2, 4, 6].map((i) => [nums[i]!, nums[i + 1]!]);
      // astropy's corners run clockwise on the sky for these images (RA grows to the left); DALI wants counter-clockwise.
      const corners = want.corners!;
      const ccw = [corners[0]!, corners[3]!, corners[2]!, corners[1]!];
      vertices.forEach((v, i) => expect({ name, i, off: sep(v, ccw[i]!) < 1e-8 }).toEqual({ name, i, off: true }));
      expect(extracted!.fov_deg).toBeCloseTo(want.fov_deg!, 9);
      expect(extracted!.resolution_arcsec).toBeCloseTo(want.resolution_arcsec!, 9);
      expect(extracted!.res_power).toBeCloseTo(want.res_power!, 6);
      expect({ name, pol: extracted!.pol_states }).toEqual({ name, pol: want.stokes ? `/${want.stokes.join('/')}/` : null });
    }
  });

  it('accepts Measurement Sets and calibration tables casacore opens, refuses those missing a subtable', async () => {
    const cases: Array<[string, ProductTypeDefinition]> = [['obs.ms', defs.ms!], ['no-field.ms', defs.ms!], ['obs.G', defs.caltable!], ['no-spw.G', defs.caltable!]];
    for (const [name, def] of cases) {
      const got = await judge(fx, name, def);
      expect({ name, verdict: got.verdict }).toEqual({ name, verdict: fx.manifest[name]!.verdict });
    }
    expect((await judge(fx, 'no-field.ms', defs.ms!)).why).toBe('CASA table: required subtable missing: FIELD');
    expect((await judge(fx, 'obs.G', defs.caltable!)).extracted).toMatchObject({ table_type: 'Calibration' });
  });

  it('refuses a Measurement Set registered as a calibration table, and a FITS file as a directory type', async () => {
    expect((await judge(fx, 'obs.ms', defs.caltable!)).why).toBe('CASA table: the main table is of type "Measurement Set", expected "Calibration"');
    const root = await openRoot(fx.dir);
    await expect(scanTree(root, 'plain.fits', 'directory', 'plain.fits')).rejects.toThrow();
    await root.close();
  });
});
