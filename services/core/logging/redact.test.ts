import { redact } from './redact';

describe('redact', () => {
  it('hides secret keys at any depth', () => {
    expect(redact({ headers: { authorization: 'Bearer abc' }, token: 't', nested: { db_password: 'p' } })).toEqual({
      headers: { authorization: '[redacted]' },
      token: '[redacted]',
      nested: { db_password: '[redacted]' },
    });
  });

  it('keeps the token name, which identifies without granting', () => {
    expect(redact({ token_name: 'pipeline-a' })).toEqual({ token_name: 'pipeline-a' });
  });

  it('removes the password from a connection string inside a message', () => {
    expect(redact('cannot reach postgres://ferry:s3cret@db:5432/ferry')).toBe('cannot reach postgres://ferry:[redacted]@db:5432/ferry');
  });

  it('serialises an error with name, message, stack and code', () => {
    const err = Object.assign(new Error('boom'), { code: 'EIO' });
    const out = redact(err) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'Error', message: 'boom', code: 'EIO' });
    expect(String(out.stack)).toContain('redact.test');
  });
});
