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
