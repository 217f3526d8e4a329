import fs from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { astroFixtures, copyFixture, type AstroFixtures } from '../../../../test/support/astro-fixtures';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { createTestRoots, type TestRoots } from '../../../../test/support/dirs';
import { testEnv } from '../../../../test/support/env';
import { eventNames, listTree, productRow } from '../../../../test/support/publish-fixtures';
import { loadConfig } from '../../config';
import { recordRegistered } from '../../repositories/product-state';
import { openRoot } from '../../publish/dir-handle';
import { scanTree } from '../../publish/scan-source';
import { publishProduct } from './publish-product';
import type { PublishingDeps } from './publishing.types';

jest.setTimeout(120_000);

describe('publishing with product types', () => {
  let db: TestDatabase;
  let roots: TestRoots;
  let fx: AstroFixtures;
  let deps: PublishingDeps;

  beforeAll(async () => {
    [db, roots, fx] = await Promise.all([createTestDatabase(), createTestRoots(), astroFixtures()]);
    const env = testEnv({ databaseUrl: db.url, redisPrefix: 'unused', stageRoot: roots.stageRoot, productsRoot: roots.productsRoot }, {
      PRODUCT_TYPES_CONFIG: path.resolve(__dirname, '../../../../config/product-types.yaml'), PUBLISH_MODE: 'copy', FERRY_INSTANCE: 'w1',
    });
    deps = { pool: db.pool, config: loadConfig('worker', env) };
  });
  afterAll(async () => {
    await db.drop();
    await roots.cleanup();
  });

  /** Stages a fixture and registers it as the API would (kind and size from a walk). */
  async function stage(fixture: string, rel: string, dataType: string, dataId: string) {
    await copyFixture(fx, fixture, path.join(roots.stageRoot, rel));
    const parent = await openRoot(path.dirname(path.join(roots.stageRoot, rel)));
    const snap = await scanTree(parent, path.basename(rel), fixture.endsWith('.fits') ? 'file' : 'directory', rel).finally(() => parent.close());
    await recordRegistered(db.pool, {
      data_id: dataId, data_type: dataType, stage_path: rel, destination_path: rel, kind: snap.kind, size_bytes: snap.totalSize,
      file_count: snap.fileCount, expected_sha256: null, metadata: {},
    });
  }

  it('validates a checksummed FITS image before the copy, stores what it read and publishes it', async () => {
    await stage('summed.fits', 'img/summed.fits', 'image', 'good-img');
    expect((await publishProduct(deps, 'good-img')).outcome).toBe('published');
    expect(await eventNames(db.pool, 'good-img')).toEqual(['registered', 'claimed', 'validated', 'published']);
    const row = await productRow(db.pool, 'good-img');
    const want = fx.manifest['summed.fits']!;
    expect(row.obs_start!.getTime() / 1000).toBeCloseTo(want.obs_start_unix!, 3);
    expect(row.obs_end!.getTime() - row.obs_start!.getTime()).toBe(300_000);
    expect(row).toMatchObject({ ra_deg: want.ra_deg, dec_deg: want.dec_deg, freq_hz: 1.405e9 });
    expect(row.extracted).toMatchObject({ format: 'fits', telescope: 'DSA-110', object: 'J1000+0230', checksummed: true, obscore: { dataproduct_type: 'image' } });
  });

  it('refuses a FITS file whose data no longer match its DATASUM/CHECKSUM: invalid, nothing published', async () => {
    await stage('summed-corrupt-data.fits', 'img/corrupt.fits', 'image', 'bad-sum');
    const result = await publishProduct(deps, 'bad-sum');
    expect(result.outcome).toBe('failed');
    const row = await productRow(db.pool, 'bad-sum');
    expect(row).toMatchObject({ status: 'failed', error_class: 'invalid' });
    expect(row.publish_error).toMatch(/^FITS: primary HDU: DATASUM is \d+ but the data sum to \d+; primary HDU: CHECKSUM verification failed/);
    await expect(fs.access(path.join(roots.productsRoot, 'img/corrupt.fits'))).rejects.toThrow();
    expect(await listTree(path.join(roots.productsRoot, '.ferry-tmp')).catch(() => [])).toEqual([]);
  });

  it('refuses a truncated FITS file before anything is copied', async () => {
    await stage('plain-truncated-block.fits', 'img/short.fits', 'image', 'short');
    expect((await publishProduct(deps, 'short')).outcome).toBe('failed');
    expect(await eventNames(db.pool, 'short')).toEqual(['registered', 'claimed', 'failed']);
    expect((await productRow(db.pool, 'short')).publish_error).toMatch(/truncated/);
    await expect(fs.access(path.join(roots.productsRoot, 'img/short.fits'))).rejects.toThrow();
  });

  it('publishes a complete Measurement Set and refuses one missing a subtable', async () => {
    await stage('obs.ms', 'ms/good.ms', 'ms', 'good-ms');
    await stage('no-field.ms', 'ms/nofield.ms', 'ms', 'bad-ms');
    expect((await publishProduct(deps, 'good-ms')).outcome).toBe('published');
    expect((await productRow(db.pool, 'good-ms')).extracted).toMatchObject({ format: 'casa_table', table_type: 'Measurement Set' });
    expect((await publishProduct(deps, 'bad-ms')).outcome).toBe('failed');
    expect(await productRow(db.pool, 'bad-ms')).toMatchObject({ error_class: 'invalid', publish_error: 'CASA table: required subtable missing: FIELD' });
  });

  it('shows one ivoa.obscore row per published product, with its access URL', async () => {
    await db.pool.query(`ALTER DATABASE "${db.name}" SET ferry.obscore_access_url = 'https://ferry.example.org/products/'`);
    // The setting applies to sessions opened after it.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = (await client.query('SELECT * FROM ivoa.obscore ORDER BY obs_id')).rows;
      const published = (await client.query("SELECT data_id FROM products WHERE status = 'published' ORDER BY data_id")).rows.map((r) => r.data_id);
      expect(published).toEqual(['good-img', 'good-ms']);
      expect(rows.map((r) => [r.obs_id, r.access_url])).toEqual([
        ['good-img', 'https://ferry.example.org/products/img/summed.fits'],
        ['good-ms', 'https://ferry.example.org/products/ms/good.ms'],
      ]);
      expect(rows[0]).toMatchObject({
        dataproduct_type: 'image', calib_level: 2, access_format: 'image/fits', target_name: 'J1000+0230', facility_name: 'DSA-110',
        s_ra: 150.25, s_dec: 2.5, s_xel1: 48, s_xel2: 64, t_exptime: 300,
      });
      expect(rows[0].t_min).toBeCloseTo(fx.manifest['summed.fits']!.obs_start_unix! / 86400 + 40587, 8);
      expect(rows[0].em_min).toBeCloseTo(299792458 / 1.405e9, 12);
      // Coverage columns from the extracted header fields, equal to astropy's computation of them.
      const want = fx.manifest['summed.fits']!;
      expect(rows[0].s_fov).toBeCloseTo(want.fov_deg!, 9);
      expect(rows[0].s_region).toMatch(/^POLYGON ICRS( \d+\.\d+ \d+\.\d+){4}$/);
      expect(rows[0].s_resolution).toBeCloseTo(want.resolution_arcsec!, 9);
      expect(rows[0].em_res_power).toBeCloseTo(want.res_power!, 6);
      expect(rows[0].pol_states).toBeNull();
      expect(rows[1]).toMatchObject({ s_fov: null, s_region: null, s_resolution: null, em_res_power: null, pol_states: null });
      expect(rows[1]).toMatchObject({ dataproduct_type: 'visibility', access_format: 'application/x-casa-ms', s_ra: null, t_min: null });
    } finally {
      await client.end();
    }
  });
});
