import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { createToken } from './create-token';
import { listTokens } from './list-tokens';
import { revokeToken } from './revoke-token';
import { hashToken, hasScope } from './token-secret';
import { BOOTSTRAP_TOKEN_NAME, verifyToken } from './verify-token';

describe('API tokens', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('stores only the SHA-256 of a new token and returns the plaintext once', async () => {
    const created = await createToken({ db: db.pool }, { name: 'pipeline-a', scopes: ['publish', 'publish'] });
    expect(created.token).toMatch(/^fry_[A-Za-z0-9_-]{43}$/);
    expect(created.scopes).toEqual(['publish']);
    const row = (await db.pool.query('SELECT * FROM api_tokens WHERE name = $1', ['pipeline-a'])).rows[0];
    expect(row.token_sha256).toBe(hashToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(await listTokens({ db: db.pool }))).not.toContain(row.token_sha256);
  });

  it('refuses a second token with a taken name', async () => {
    await expect(createToken({ db: db.pool }, { name: 'pipeline-a', scopes: ['read'] })).rejects.toMatchObject({ status: 409, code: 'token_name_taken' });
  });

  it('resolves a valid token, and nothing for an unknown or revoked one', async () => {
    const created = await createToken({ db: db.pool }, { name: 'reader', scopes: ['read'] });
    const deps = { db: db.pool, adminTokenSha256: undefined };
    expect(await verifyToken(deps, created.token)).toMatchObject({ name: 'reader', scopes: ['read'] });
    expect(await verifyToken(deps, `${created.token}x`)).toBeUndefined();
    const revoked = await revokeToken({ db: db.pool }, 'reader');
    expect(revoked.revoked_at).not.toBeNull();
    expect(await verifyToken(deps, created.token)).toBeUndefined();
    // Revoking again keeps the first revocation time.
    expect((await revokeToken({ db: db.pool }, 'reader')).revoked_at).toBe(revoked.revoked_at);
  });

  it('accepts the bootstrap admin token without a database row', async () => {
    const admin = 'a'.repeat(40);
    const id = await verifyToken({ db: db.pool, adminTokenSha256: hashToken(admin) }, admin);
    expect(id).toEqual({ id: undefined, name: BOOTSTRAP_TOKEN_NAME, scopes: ['admin'] });
  });

  it('answers 404 token_not_found when revoking an unknown name', async () => {
    await expect(revokeToken({ db: db.pool }, 'nobody')).rejects.toMatchObject({ status: 404, code: 'token_not_found' });
  });

  it('orders scopes as a ladder: admin ⊇ publish ⊇ read', () => {
    expect(hasScope(['admin'], 'read')).toBe(true);
    expect(hasScope(['admin'], 'publish')).toBe(true);
    expect(hasScope(['publish'], 'read')).toBe(true);
    expect(hasScope(['publish'], 'admin')).toBe(false);
    expect(hasScope(['read'], 'publish')).toBe(false);
  });
});
