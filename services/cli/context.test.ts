import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './cli-error';
import { DEFAULT_URL, resolveTarget, resolveToken } from './context';

describe('connection options', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferryctl-ctx-'));
    await fs.writeFile(path.join(dir, 'token'), 'from-file\n');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('prefers --token, then --token-file, then FERRY_TOKEN, then FERRY_TOKEN_FILE', () => {
    const file = path.join(dir, 'token');
    const env = { FERRY_TOKEN: 'from-env', FERRY_TOKEN_FILE: file };
    expect(resolveToken({ token: 'flag', tokenFile: file }, env)).toBe('flag');
    expect(resolveToken({ tokenFile: file }, env)).toBe('from-file');
    expect(resolveToken({}, env)).toBe('from-env');
    expect(resolveToken({}, { FERRY_TOKEN_FILE: file })).toBe('from-file');
    expect(resolveToken({}, {})).toBeUndefined();
  });

  it('refuses a token file it cannot read, naming it', () => {
    expect(() => resolveToken({}, { FERRY_TOKEN_FILE: path.join(dir, 'nope') })).toThrow(/cannot read FERRY_TOKEN_FILE .*nope: ENOENT/);
  });

  it('takes the URL from the flag, then FERRY_URL, then the default', () => {
    expect(resolveTarget({ url: 'http://a:1', token: 't' }, { FERRY_URL: 'http://b:2' }).baseUrl).toBe('http://a:1');
    expect(resolveTarget({ token: 't' }, { FERRY_URL: 'http://b:2' }).baseUrl).toBe('http://b:2');
    expect(resolveTarget({ token: 't' }, {}).baseUrl).toBe(DEFAULT_URL);
  });

  it('reads the CA file given by --ca or FERRY_CA and refuses a missing one', () => {
    const ca = path.join(dir, 'token');
    expect(resolveTarget({ token: 't', ca }, {}).ca?.toString()).toBe('from-file\n');
    expect(resolveTarget({ token: 't' }, { FERRY_CA: ca }).ca).toBeDefined();
    expect(() => resolveTarget({ token: 't', ca: path.join(dir, 'missing.pem') }, {})).toThrow(UsageError);
  });

  it('requires a token unless told not to', () => {
    expect(() => resolveTarget({}, {})).toThrow('no API token');
    expect(resolveTarget({}, {}, false).token).toBeUndefined();
  });
});
