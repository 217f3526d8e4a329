import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors';
import { loadConfig } from './load-config';

const base = {
  DATABASE_URL: 'postgres://ferry@127.0.0.1:5432/ferry',
  REDIS_URL: 'redis://127.0.0.1:6379',
  STAGE_ROOT: '/data/stage',
  PRODUCTS_ROOT: '/data/products',
};

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig('api', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig('api', base);
    expect(c.http.port).toBe(8000);
    expect(c.metrics.port).toBe(9464);
    expect(c.publish).toMatchObject({ mode: 'move', maxAttempts: 5 });
    expect(c.products.types).toEqual(['image', 'mosaic', 'caltable', 'ms']);
    expect(Object.isFrozen(c.publish)).toBe(true);
  });

  it('takes an empty variable as unset, so its default applies (compose passes an operator\'s empty setting through)', () => {
    const c = loadConfig('api', { ...base, LOG_LEVEL: '', PUBLISH_MAX_ATTEMPTS: '', PRODUCT_TYPES: '', CONSOLE_GRAFANA_URL: '' });
    expect(c.publish.maxAttempts).toBe(5);
    expect(c.products.types).toEqual(['image', 'mosaic', 'caltable', 'ms']);
    expect(c.console.grafanaUrl).toBeUndefined();
    expect(loadConfig('api', { ...base, LOG_LEVEL: '' })).toEqual(loadConfig('api', base));
    expect(problems({ ...base, STAGE_ROOT: '' })).toEqual(['STAGE_ROOT: is required']);
  });

  it('gives the worker its own metrics port', () => {
    expect(loadConfig('worker', base).metrics.port).toBe(9465);
  });

  it('lists every problem at once', () => {
    const list = problems({ STAGE_ROOT: 'relative', PUBLISH_MODE: 'rename', PORT: 'eighty', FERRY_ADMIN_TOKEN: 'short' });
    expect(list).toEqual(
      expect.arrayContaining([
        'DATABASE_URL: is required',
        'REDIS_URL: is required',
        'STAGE_ROOT: must be an absolute path',
        'PRODUCTS_ROOT: is required',
        expect.stringMatching(/^PUBLISH_MODE: /),
        expect.stringMatching(/^PORT: /),
        'FERRY_ADMIN_TOKEN: must be at least 32 characters',
      ]),
    );
    expect(list).toHaveLength(7);
  });

  it('reads a secret from its _FILE twin and puts a separate password into the URL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cfg-'));
    fs.writeFileSync(path.join(dir, 'token'), `${'x'.repeat(40)}\n`);
    fs.writeFileSync(path.join(dir, 'pg'), 'p@ss word');
    const c = loadConfig('api', { ...base, FERRY_ADMIN_TOKEN_FILE: path.join(dir, 'token'), DATABASE_PASSWORD_FILE: path.join(dir, 'pg') });
    expect(c.auth.adminToken).toBe('x'.repeat(40));
    expect(new URL(c.database.url).password).toBe(encodeURIComponent('p@ss word'));
  });

  it('refuses a secret given both ways, and an unreadable _FILE', () => {
    expect(problems({ ...base, REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: '/nonexistent' })).toEqual([
      'REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set: keep one',
    ]);
    expect(problems({ ...base, FERRY_ADMIN_TOKEN_FILE: '/nonexistent/token' })).toEqual([
      'FERRY_ADMIN_TOKEN_FILE: cannot read /nonexistent/token (ENOENT)',
    ]);
  });

  it('refuses the same directory for staging and products', () => {
    expect(problems({ ...base, PRODUCTS_ROOT: '/data/stage/' })).toEqual(['PRODUCTS_ROOT: must differ from STAGE_ROOT']);
  });

  it('drops setuid, setgid, sticky and group/other write from published modes unless told otherwise', () => {
    expect(loadConfig('worker', base).publish.dropModeBits).toBe(0o7022);
    expect(loadConfig('worker', { ...base, PUBLISH_MODE_DROP_BITS: '7077' }).publish.dropModeBits).toBe(0o7077);
    expect(problems({ ...base, PUBLISH_MODE_DROP_BITS: '9' })).toEqual(['PUBLISH_MODE_DROP_BITS: an octal mode such as 7022']);
  });

  it('refuses the test-only pause folder in production and accepts it in tests', () => {
    expect(problems({ ...base, PUBLISH_TEST_HOOK_DIR: '/tmp/hooks' })).toEqual(['PUBLISH_TEST_HOOK_DIR: test-only; unset it (NODE_ENV is production)']);
    expect(loadConfig('worker', { ...base, NODE_ENV: 'test', PUBLISH_TEST_HOOK_DIR: '/tmp/hooks' }).publish.testHookDir).toBe('/tmp/hooks');
    expect(loadConfig('worker', base).publish.testHookDir).toBeUndefined();
  });
});

describe('loadConfig: the product types file', () => {
  const shipped = path.resolve(__dirname, '../../../config/product-types.yaml');

  function typesProblems(yaml: string, extra: NodeJS.ProcessEnv = {}): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-types-'));
    fs.writeFileSync(path.join(dir, 'types.yaml'), yaml);
    return problems({ ...base, PRODUCT_TYPES_CONFIG: path.join(dir, 'types.yaml'), ...extra });
  }

  it('loads the shipped defaults: image, mosaic, ms and caltable with their validators', () => {
    const c = loadConfig('api', { ...base, PRODUCT_TYPES_CONFIG: shipped });
    expect(c.products.types).toEqual(['image', 'mosaic', 'ms', 'caltable']);
    expect(c.products.definitions.mosaic).toMatchObject({ kind: 'file', validators: { fits: { verify_checksums: true } }, lineage: { require: 'published', max_span_seconds: 3600 } });
    expect(c.products.definitions.ms!.validators.casa_table!.required_subtables).toContain('SPECTRAL_WINDOW');
  });

  it('keeps PRODUCT_TYPES alone as opaque types, as before the file existed', () => {
    expect(loadConfig('api', { ...base, PRODUCT_TYPES: 'a,b' }).products.definitions).toEqual({ a: { validators: {} }, b: { validators: {} } });
  });

  it('lists every problem of a bad file at once', () => {
    const list = typesProblems(`version: 1
types:
  image:
    kind: file
    name_pattern: '(unclosed'
    min_bytes: 10
    max_bytes: 5
    validators: { casa_table: {} }
    metadata_schema: { type: object, properties: { a: { type: strnig } } }
  mosaic:
    kind: directory
    validators: { fits: {}, fitz: {} }
    lineage: { input_types: [imgae], require: sometimes }
`);
    expect(list).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PRODUCT_TYPES_CONFIG: types\.mosaic\.validators: Unrecognized key: "fitz"/),
      expect.stringMatching(/^PRODUCT_TYPES_CONFIG: types\.mosaic\.lineage\.require: /),
    ]));
    // Structural problems first; once the shape is right, the cross-checks list theirs together.
    const second = typesProblems(`version: 1
types:
  image:
    kind: file
    name_pattern: '(unclosed'
    min_bytes: 10
    max_bytes: 5
    validators: { casa_table: {} }
    metadata_schema: { type: object, properties: { a: { type: strnig } } }
  mosaic:
    kind: directory
    validators: { fits: {} }
    lineage: { input_types: [imgae] }
`);
    expect(second).toEqual([
      expect.stringMatching(/^PRODUCT_TYPES_CONFIG: types\.image\.name_pattern: not a valid regular expression/),
      'PRODUCT_TYPES_CONFIG: types.image: min_bytes is larger than max_bytes',
      expect.stringMatching(/^PRODUCT_TYPES_CONFIG: types\.image\.metadata_schema: schema is invalid/),
      'PRODUCT_TYPES_CONFIG: types.image.validators.casa_table: needs kind: directory',
      'PRODUCT_TYPES_CONFIG: types.mosaic.validators.fits: needs kind: file',
      'PRODUCT_TYPES_CONFIG: types.mosaic.lineage.input_types: imgae is not a defined type',
    ]);
  });

  it('refuses an unreadable file, YAML that does not parse, and a PRODUCT_TYPES entry the file does not define', () => {
    expect(problems({ ...base, PRODUCT_TYPES_CONFIG: '/nonexistent/types.yaml' })).toEqual(['PRODUCT_TYPES_CONFIG: cannot read /nonexistent/types.yaml (ENOENT)']);
    expect(typesProblems('version: [1\n')[0]).toMatch(/^PRODUCT_TYPES_CONFIG: .* is not valid YAML/);
    expect(problems({ ...base, PRODUCT_TYPES_CONFIG: shipped, PRODUCT_TYPES: 'image,cube' })).toEqual(['PRODUCT_TYPES: cube is not defined in the PRODUCT_TYPES_CONFIG file']);
    expect(loadConfig('api', { ...base, PRODUCT_TYPES_CONFIG: shipped, PRODUCT_TYPES: 'ms' }).products.types).toEqual(['ms']);
  });
});
