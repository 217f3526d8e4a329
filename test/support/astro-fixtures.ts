import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root';

/** What astropy/casacore said of one fixture (test/fixtures/astro/make-astro-fixtures.py). */
export interface AstroVerdict {
  verdict: 'accept' | 'refuse';
  why: string;
  obs_start_unix?: number;
  ra_deg?: number;
  dec_deg?: number;
  telescope?: string;
  object?: string;
  table_type?: string;
  /** astropy's calc_footprint(center=False): the outer corners of the image, [ra, dec] degrees. */
  corners?: number[][];
  fov_deg?: number;
  frame?: string;
  resolution_arcsec?: number | null;
  res_power?: number | null;
  /** The STOKES axis's parameters in pixel order, as astropy evaluates the axis. */
  stokes?: string[] | null;
}

export interface AstroFixtures {
  dir: string;
  manifest: Record<string, AstroVerdict>;
}

const SCRIPT = path.join(REPO_ROOT, 'test/fixtures/astro/make-astro-fixtures.py');
/** Debian's interpreter, where python3-astropy and python3-casacore are installed (.ci/prepare.sh). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

let made: Promise<AstroFixtures> | undefined;

/**
 * The FITS files, Measurement Sets and calibration tables written by astropy and casacore, with
 * their verdicts. Made once per version of the script and shared by every test file (and run)
 * through a directory in the temp dir named after the script's hash, created by an atomic rename.
 */
export function astroFixtures(): Promise<AstroFixtures> {
  made ??= (async () => {
    const hash = crypto.createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
    const dir = path.join(os.tmpdir(), `ferry-astro-fixtures-${hash}`);
    if (!existsSync(path.join(dir, 'manifest.json'))) {
      const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-astro-work-'));
      await promisify(execFile)(PYTHON, [SCRIPT, path.join(work, 'out')], { timeout: 120_000 });
      await fs.rename(path.join(work, 'out'), dir).catch((err: NodeJS.ErrnoException) => {
        // Another test process made them first: theirs are identical.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
      await fs.rm(work, { recursive: true, force: true });
    }
    return { dir, manifest: JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, AstroVerdict> };
  })();
  return made;
}

/** Copies one fixture (file or directory) to `dest`, creating parents. */
export async function copyFixture(fx: AstroFixtures, name: string, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.cp(path.join(fx.dir, name), dest, { recursive: true });
}
