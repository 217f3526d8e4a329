import request from 'supertest';
import { createToken } from '../../core/domain/tokens/create-token';
import { createTestApi, TEST_ADMIN_TOKEN, type TestApi } from '../../../test/support/api';
import { registryCounts, seedProduct } from '../../../test/support/products';
import { CONSOLE_CSP } from './headers';

// The console's security rules through createApp: sessions, CSRF, scopes, CSP, escaping.

let api: TestApi;
let readToken: string;

/** Cookies from a response's Set-Cookie, as name → full header line. */
function setCookies(res: request.Response): Record<string, string> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return Object.fromEntries((raw ?? []).map((c) => [c.slice(0, c.indexOf('=')), c]));
}

/** The CSRF token a page's forms carry. */
function formCsrf(page: request.Response): string {
  return /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
}

/** Posts a token through the real sign-in form, with the form's pre-session cookie and CSRF token; returns the answer. */
async function postSignIn(token: string): Promise<request.Response> {
  const form = await request(api.app).get('/console/sign-in');
  const pre = setCookies(form)['__Host-ferry_signin']!.split(';')[0]!;
  return request(api.app).post('/console/sign-in').set('Cookie', pre).type('form').send({ _csrf: formCsrf(form), token });
}

/** Signs in with a token through the real form; returns the session cookie and the page's CSRF token. */
async function signIn(token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await postSignIn(token);
  expect(res.status).toBe(303);
  const cookie = setCookies(res)['__Host-ferry_console']!.split(';')[0]!;
  const page = await request(api.app).get('/console').set('Cookie', cookie);
  return { cookie, csrf: formCsrf(page) };
}

async function productStatus(dataId: string): Promise<string> {
  const r = await api.deps.pool.query<{ status: string }>('SELECT status FROM products WHERE data_id = $1', [dataId]);
  return r.rows[0]!.status;
}

beforeAll(async () => {
  api = await createTestApi({ env: { CONSOLE_SIGNIN_PER_WINDOW: '40', CONSOLE_STAGE_HOST_PATH: '/srv/ferry-data/stage', CONSOLE_PRODUCTS_HOST_PATH: '/srv/ferry-data/products' } });
  readToken = (await createToken({ db: api.deps.pool }, { name: 'viewer', scopes: ['read'] })).token;
  await seedProduct(api.deps.pool, { data_id: 'bad-1', status: 'failed', publish_attempts: 1, error_class: 'checksum_mismatch', publish_error: 'expected aaaa, got bbbb' });
  await seedProduct(api.deps.pool, { data_id: 'bad-2', status: 'failed', publish_attempts: 1, error_class: 'checksum_mismatch', publish_error: 'expected cccc, got dddd' });
  await seedProduct(api.deps.pool, { data_id: 'gone-1', status: 'failed', publish_attempts: 1, error_class: 'source_missing', publish_error: 'the source is gone' });
});

afterAll(async () => {
  (api.app.locals.consoleLive as { close(): void }).close();
  await api.close();
});

describe('sign-in and sessions', () => {
  it('sends a GET without a session to the sign-in form (303)', async () => {
    const res = await request(api.app).get('/console/products');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/sign-in');
  });

  it('serves the sign-in form with the console CSP and a pre-session CSRF cookie', async () => {
    const res = await request(api.app).get('/console/sign-in');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.text).toContain('<label for="token">API token</label>');
    expect(setCookies(res)['__Host-ferry_signin']).toMatch(/HttpOnly; Secure; SameSite=Strict/);
  });

  it('refuses a sign-in without the form CSRF token: 403, no session', async () => {
    const res = await request(api.app).post('/console/sign-in').type('form').send({ token: TEST_ADMIN_TOKEN });
    expect(res.status).toBe(403);
    expect(res.text).toContain('CSRF');
    expect(setCookies(res)['__Host-ferry_console']).toBeUndefined();
  });

  it('refuses an unknown token: 401 and the form again', async () => {
    const res = await postSignIn('fry_not-a-token');
    expect(res.status).toBe(401);
    expect(res.text).toContain('That token is unknown or revoked.');
    expect(setCookies(res)['__Host-ferry_console']).toBeUndefined();
  });

  it('opens a session cookie that is HttpOnly, Secure, SameSite=Strict, host-only and expires', async () => {
    const res = await postSignIn(TEST_ADMIN_TOKEN);
    expect(res.status).toBe(303);
    const cookie = setCookies(res)['__Host-ferry_console']!;
    expect(cookie).toMatch(/^__Host-ferry_console=[A-Za-z0-9_-]{43}; Path=\/; Expires=.+; HttpOnly; Secure; SameSite=Strict$/);
    // Only hashes are stored: the cookie value is nowhere in the table.
    const rows = await api.deps.pool.query<{ id_sha256: string }>('SELECT id_sha256 FROM console_sessions');
    expect(rows.rows.map((r) => r.id_sha256)).not.toContain(cookie.split(';')[0]!.split('=')[1]);
  });

  it('ends a session at sign-out: the old cookie is sent to sign in again, and its POSTs are 401', async () => {
    const s = await signIn(TEST_ADMIN_TOKEN);
    const out = await request(api.app).post('/console/sign-out').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in');
    const again = await request(api.app).get('/console').set('Cookie', s.cookie);
    expect(again.status).toBe(303);
    const post = await request(api.app).post('/console/products/bad-1/retry').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf });
    expect(post.status).toBe(401);
    expect(await productStatus('bad-1')).toBe('failed');
  });

  it('ends every session of a token the moment the token is revoked', async () => {
    const t = await createToken({ db: api.deps.pool }, { name: 'short-lived', scopes: ['read'] });
    const s = await signIn(t.token);
    expect((await request(api.app).get('/console').set('Cookie', s.cookie)).status).toBe(200);
    const revoke = await request(api.app).delete('/api/tokens/short-lived').set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(revoke.status).toBe(200);
    const res = await request(api.app).get('/console').set('Cookie', s.cookie);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/sign-in');
  });

  it('refuses an expired session', async () => {
    const s = await signIn(TEST_ADMIN_TOKEN);
    await api.deps.pool.query("UPDATE console_sessions SET expires_at = now() - interval '1 second'");
    expect((await request(api.app).get('/console').set('Cookie', s.cookie)).status).toBe(303);
  });
});

describe('CSRF and scopes', () => {
  it('refuses a POST without the CSRF token: 403, nothing written', async () => {
    const s = await signIn(TEST_ADMIN_TOKEN);
    const before = await registryCounts(api.deps.pool);
    const res = await request(api.app).post('/console/products/bad-1/retry').set('Cookie', s.cookie).type('form').send({});
    expect(res.status).toBe(403);
    expect(res.text).toContain('CSRF token');
    expect(await registryCounts(api.deps.pool)).toEqual(before);
    expect(await productStatus('bad-1')).toBe('failed');
  });

  it('refuses a POST with another session\'s CSRF token: 403', async () => {
    const a = await signIn(TEST_ADMIN_TOKEN);
    const b = await signIn(TEST_ADMIN_TOKEN);
    const res = await request(api.app).post('/console/products/bad-1/retry').set('Cookie', a.cookie).type('form').send({ _csrf: b.csrf });
    expect(res.status).toBe(403);
    expect(await productStatus('bad-1')).toBe('failed');
  });

  it('shows a read token no action control, and answers its forged POST with 403', async () => {
    const s = await signIn(readToken);
    const page = await request(api.app).get('/console/products/bad-1').set('Cookie', s.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('expected aaaa, got bbbb');
    expect(page.text).not.toContain('/retry"');
    const failures = await request(api.app).get('/console/failures').set('Cookie', s.cookie);
    expect(failures.text).not.toContain('Preview');
    expect(failures.text).not.toContain('type="checkbox"');
    const before = await registryCounts(api.deps.pool);
    const forged = await request(api.app).post('/console/products/bad-1/retry').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('needs the &quot;admin&quot; scope');
    const bulk = await request(api.app).post('/console/failures/retry').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, data_id: ['bad-1', 'bad-2'] });
    expect(bulk.status).toBe(403);
    expect((await request(api.app).get('/console/tokens').set('Cookie', s.cookie)).status).toBe(403);
    expect(await registryCounts(api.deps.pool)).toEqual(before);
  });

  it('limits sign-in attempts per client address: 429', async () => {
    const limited = await createTestApi({ env: { CONSOLE_SIGNIN_PER_WINDOW: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await request(limited.app).post('/console/sign-in').type('form').send({ token: 'x' })).status);
      expect(statuses).toEqual([403, 403, 403, 429]);
    } finally {
      (limited.app.locals.consoleLive as { close(): void }).close();
      await limited.close();
    }
  });
});

describe('pages', () => {
  it('groups failures by error class, and a bulk retry changes nothing until the preview is confirmed', async () => {
    const s = await signIn(TEST_ADMIN_TOKEN);
    const failures = await request(api.app).get('/console/failures').set('Cookie', s.cookie);
    expect(failures.status).toBe(200);
    expect(failures.text).toMatch(/checksum_mismatch<\/a><\/td><td>2<\/td>/);
    const preview = await request(api.app).get('/console/failures/preview?action=retry&error_class=checksum_mismatch').set('Cookie', s.cookie);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('Dry run: retry 2 products');
    expect(preview.text).not.toContain('gone-1');
    expect(await productStatus('bad-1')).toBe('failed');
    const ids = [...preview.text.matchAll(/name="data_id" value="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.sort()).toEqual(['bad-1', 'bad-2']);
    const done = await request(api.app).post('/console/failures/retry').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, data_id: ids });
    expect(done.status).toBe(200);
    expect(done.text).toContain('2 of 2 done');
    expect(await productStatus('bad-1')).toBe('staging');
    expect(await productStatus('gone-1')).toBe('failed');
  });

  it('discards a failed product with its reason, naming the signed-in token in the event', async () => {
    await seedProduct(api.deps.pool, { data_id: 'junk-1', status: 'failed', publish_attempts: 1, error_class: 'unsupported_file_type', publish_error: 'a socket' });
    const s = await signIn(TEST_ADMIN_TOKEN);
    const page = await request(api.app).get('/console/products/junk-1').set('Cookie', s.cookie);
    expect(page.text).toContain('/console/products/junk-1/discard');
    const noReason = await request(api.app).post('/console/products/junk-1/discard').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(await productStatus('junk-1')).toBe('failed');
    const res = await request(api.app).post('/console/products/junk-1/discard').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, reason: 'a socket is no product' });
    expect(res.status).toBe(303);
    expect(await productStatus('junk-1')).toBe('discarded');
    const ev = await api.deps.pool.query("SELECT actor, reason FROM product_events WHERE data_id = 'junk-1' AND event = 'discarded'");
    expect(ev.rows).toEqual([{ actor: 'bootstrap-admin', reason: 'a socket is no product' }]);
    const list = await request(api.app).get('/console/discarded').set('Cookie', s.cookie);
    expect(list.text).toContain('>junk-1</a>');
  });

  it('pauses and resumes publishing from the overview; a read token sees the state but no control', async () => {
    const s = await signIn(TEST_ADMIN_TOKEN);
    const paused = await request(api.app).post('/console/publishing/pause').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, scope: '*', reason: 'disk swap' });
    expect(paused.status).toBe(303);
    const r = await signIn(readToken);
    const overview = await request(api.app).get('/console').set('Cookie', r.cookie);
    expect(overview.text).toMatch(/Publishing is <strong>paused<\/strong> for all data types \(by bootstrap-admin at [^)]+: disk swap\)/);
    expect(overview.text).not.toContain('/console/publishing/resume');
    const forged = await request(api.app).post('/console/publishing/resume').set('Cookie', r.cookie).type('form').send({ _csrf: r.csrf, scope: '*' });
    expect(forged.status).toBe(403);
    const resumed = await request(api.app).post('/console/publishing/resume').set('Cookie', s.cookie).type('form').send({ _csrf: s.csrf, scope: '*' });
    expect(resumed.status).toBe(303);
    expect((await request(api.app).get('/console').set('Cookie', r.cookie)).text).toContain('Publishing is <strong>running</strong>');
  });

  it('escapes everything it renders from the registry', async () => {
    await api.deps.pool.query(`UPDATE products SET metadata = '{"note": "<script>alert(1)</script>"}' WHERE data_id = 'gone-1'`);
    const s = await signIn(readToken);
    const page = await request(api.app).get('/console/products/gone-1').set('Cookie', s.cookie);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).toContain('/srv/ferry-data/stage/gone-1.fits');
  });

  it('filters products by state, data_id prefix and metadata, newest first', async () => {
    const s = await signIn(readToken);
    const res = await request(api.app).get('/console/products?status=failed&data_id=gon&metadata=note%3D%3Cscript%3Ealert(1)%3C%2Fscript%3E').set('Cookie', s.cookie);
    expect(res.status).toBe(200);
    expect(res.text).toContain('>gone-1</a>');
    expect(res.text).not.toContain('>bad-2</a>');
    const all = await request(api.app).get('/console/products').set('Cookie', s.cookie);
    expect(all.text.indexOf('>gone-1</a>')).toBeLessThan(all.text.indexOf('>bad-1</a>'));
    const bad = await request(api.app).get('/console/products?metadata=novalue').set('Cookie', s.cookie);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('key=value');
  });

  it('serves htmx and its SSE extension from the package, and nothing else under assets', async () => {
    const js = await request(api.app).get('/console/assets/htmx.min.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await request(api.app).get('/console/assets/..%2Fconsole.router.ts')).status).toBe(404);
  });

  it('links a correction and the product it supersedes both ways on their pages', async () => {
    await seedProduct(api.deps.pool, { data_id: 'cal-old', status: 'retracted' });
    await seedProduct(api.deps.pool, { data_id: 'cal-new', status: 'published' });
    await api.deps.pool.query("UPDATE products SET supersedes = 'cal-old' WHERE data_id = 'cal-new'");
    const s = await signIn(readToken);
    const newer = await request(api.app).get('/console/products/cal-new').set('Cookie', s.cookie);
    expect(newer.text).toMatch(/<dd id="product-supersedes"><a href="\/console\/products\/cal-old"><code>cal-old<\/code><\/a><\/dd>/);
    expect(newer.text).not.toContain('product-superseded-by');
    const older = await request(api.app).get('/console/products/cal-old').set('Cookie', s.cookie);
    expect(older.text).toMatch(/<dd id="product-superseded-by"><a href="\/console\/products\/cal-new"><code>cal-new<\/code><\/a><\/dd>/);
    expect(older.text).not.toContain('product-supersedes"');
    // A product with neither link shows no corrections section.
    expect((await request(api.app).get('/console/products/bad-2').set('Cookie', s.cookie)).text).not.toContain('corrections-h');
  });

  it('lists on a retracted product\'s page what was derived from it, and nothing of the kind on others', async () => {
    await seedProduct(api.deps.pool, { data_id: 'flat-old', status: 'retracted' });
    await seedProduct(api.deps.pool, { data_id: 'flat-user', status: 'published' });
    await api.deps.pool.query(`INSERT INTO product_inputs (product_id, input_id)
      SELECT p.id, i.id FROM products p, products i WHERE p.data_id = 'flat-user' AND i.data_id = 'flat-old'`);
    const s = await signIn(readToken);
    const page = await request(api.app).get('/console/products/flat-old').set('Cookie', s.cookie);
    expect(page.text).toContain('<h2 id="derived-h">Derived from this product</h2>');
    expect(page.text).toMatch(/<td>1<\/td><td><a href="\/console\/products\/flat-user"><code>flat-user<\/code><\/a><\/td><td>image<\/td><td><span class="state state-published">published<\/span><\/td>/);
    expect((await request(api.app).get('/console/products/flat-user').set('Cookie', s.cookie)).text).not.toContain('derived-h');
  });

  it('answers 404 as a page for an unknown product', async () => {
    const s = await signIn(readToken);
    const res = await request(api.app).get('/console/products/nope').set('Cookie', s.cookie);
    expect(res.status).toBe(404);
    expect(res.text).toContain('no product with data_id nope');
  });
});
