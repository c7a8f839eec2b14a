import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET, client, registerUser, startApi, type TestApi } from './helpers/api.js';

const ISSUER = 'collabflow';
const AUDIENCE = 'collabflow-api';

/** The `name=value` part of the refresh cookie in a response, or undefined. */
function refreshCookieOf(headers: Headers): string | undefined {
  for (const c of headers.getSetCookie()) {
    const [pair] = c.split(';');
    if (pair?.startsWith('cf_refresh=') && pair.length > 'cf_refresh='.length) return pair;
  }
  return undefined;
}

function setCookieAttributes(headers: Headers): string[] {
  const c = headers.getSetCookie().find((s) => s.startsWith('cf_refresh='));
  return (c ?? '')
    .split(';')
    .slice(1)
    .map((s) => s.trim().toLowerCase());
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('auth', () => {
  let t: TestApi;
  let api: ReturnType<typeof client>;
  let alice: Awaited<ReturnType<typeof registerUser>>;

  const refresh = (cookie?: string) =>
    api.call('POST', '/api/auth/refresh', { headers: cookie ? { cookie } : {} });
  const logout = (cookie?: string) =>
    api.call('POST', '/api/auth/logout', { headers: cookie ? { cookie } : {} });
  const login = (email: string, password: string) =>
    api.post('/api/auth/login', { email, password });

  beforeAll(async () => {
    t = await startApi();
    api = client(t.url);
    alice = await registerUser(api, 'Alice');
  });
  afterAll(async () => {
    await t.close();
  });

  describe('register', () => {
    it('creates a user, answers 201 { user, token } and sets the httpOnly refresh cookie', async () => {
      const email = `reg-${Date.now()}@example.test`;
      const r = await api.post('/api/auth/register', {
        email,
        password: 'long enough password',
        name: 'Reg',
      });
      expect(r.status).toBe(201);
      expect(r.body.user).toMatchObject({ email, name: 'Reg' });
      expect(r.body.user.id).toMatch(/^[a-f0-9]{24}$/);
      expect(r.body.user).not.toHaveProperty('passwordHash');
      expect(typeof r.body.token).toBe('string');
      expect(refreshCookieOf(r.headers)).toBeDefined();
      const attrs = setCookieAttributes(r.headers);
      expect(attrs).toContain('httponly');
      expect(attrs).toContain('path=/api/auth');
      const me = await api.get('/api/auth/me', r.body.token);
      expect(me.status).toBe(200);
      expect(me.body.user).toEqual(r.body.user);
    });

    it('rejects a duplicate email (any case) with 409 email_taken', async () => {
      const r = await api.post('/api/auth/register', {
        email: alice.user.email.toUpperCase(),
        password: 'another password',
        name: 'Impostor',
      });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('email_taken');
      // The original account is untouched: its password still works.
      expect((await login(alice.user.email, alice.password)).status).toBe(200);
    });

    it('rejects missing fields, a short password and unknown keys with 400 validation_failed', async () => {
      const bodies = [
        {},
        { email: 'x@example.test', password: 'long enough password' },
        { email: 'x@example.test', name: 'X' },
        { email: 'not-an-email', password: 'long enough password', name: 'X' },
        { email: 'x@example.test', password: 'short', name: 'X' },
        { email: 'x@example.test', password: 'long enough password', name: 'X', admin: true },
        { email: { $gt: '' }, password: 'long enough password', name: 'X' },
      ];
      for (const body of bodies) {
        const r = await api.post('/api/auth/register', body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('login', () => {
    it('logs in with the right password (email case-insensitive)', async () => {
      const r = await login(`  ${alice.user.email.toUpperCase()} `, alice.password);
      expect(r.status).toBe(200);
      expect(r.body.user).toEqual(alice.user);
      expect(refreshCookieOf(r.headers)).toBeDefined();
      expect((await api.get('/api/auth/me', r.body.token)).body.user.id).toBe(alice.user.id);
    });

    it('gives the same 401 invalid_credentials for a wrong password and an unknown email', async () => {
      const wrong = await login(alice.user.email, 'wrong password!');
      const unknown = await login(`nobody-${Date.now()}@example.test`, 'wrong password!');
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body.error.code).toBe('invalid_credentials');
      expect(unknown.body).toEqual(wrong.body);
      expect(refreshCookieOf(wrong.headers)).toBeUndefined();
      expect(refreshCookieOf(unknown.headers)).toBeUndefined();
    });

    it('rejects operator objects in email and password with 400, never logging in', async () => {
      for (const body of [
        { email: { $gt: '' }, password: alice.password },
        { email: alice.user.email, password: { $gt: '' } },
        { email: { $ne: null }, password: { $ne: null } },
        { email: alice.user.email, password: alice.password, extra: 1 },
        { email: alice.user.email },
      ]) {
        const r = await api.post('/api/auth/login', body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
        expect(r.body).not.toHaveProperty('token');
      }
    });
  });

  describe('me', () => {
    it('needs a bearer token', async () => {
      const r = await api.get('/api/auth/me');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    });

    it('answers 401 token_expired for an expired access token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = jwt.sign(
        { sub: alice.user.id, iat: now - 120, exp: now - 60, iss: ISSUER, aud: AUDIENCE },
        TEST_JWT_SECRET,
        { algorithm: 'HS256' },
      );
      const r = await api.get('/api/auth/me', token);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('token_expired');
    });

    it('accepts a well-formed token signed with the secret (control for the cases below)', async () => {
      const token = jwt.sign({}, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        subject: alice.user.id,
        issuer: ISSUER,
        audience: AUDIENCE,
        expiresIn: 60,
      });
      const r = await api.get('/api/auth/me', token);
      expect(r.status).toBe(200);
      expect(r.body.user.id).toBe(alice.user.id);
    });

    it('answers 401 unauthorized for malformed, forged, alg:none, wrong-algorithm and wrong-audience tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: alice.user.id, iat: now, exp: now + 600, iss: ISSUER, aud: AUDIENCE };
      const header = b64url({ alg: 'none', typ: 'JWT' });
      const algNone = `${header}.${b64url(claims)}.`;
      // An HS256 token whose signature is computed with another secret.
      const forged = jwt.sign(claims, 'another-secret-that-is-also-long-enough-0123456789');
      // Hand-made HS256 over a payload with an edited subject but the original signature.
      const good = jwt.sign(claims, TEST_JWT_SECRET);
      const [h, , s] = good.split('.');
      const tampered = `${h}.${b64url({ ...claims, sub: 'ffffffffffffffffffffffff' })}.${s}`;
      const hs512 = jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS512' });
      const wrongAudience = jwt.sign({ ...claims, aud: 'someone-else' }, TEST_JWT_SECRET);
      const wrongIssuer = jwt.sign({ ...claims, iss: 'evil' }, TEST_JWT_SECRET);
      const badSubject = jwt.sign({ ...claims, sub: 'not-an-object-id' }, TEST_JWT_SECRET);
      // Signed with HMAC-SHA256 and the right secret, but the header names the algorithm NONE.
      const noneSigned = `${b64url({ alg: 'NONE' })}.${b64url(claims)}.${createHmac(
        'sha256',
        TEST_JWT_SECRET,
      )
        .update(`${b64url({ alg: 'NONE' })}.${b64url(claims)}`)
        .digest('base64url')}`;
      const cases: Record<string, string> = {
        garbage: 'not.a.jwt',
        'one segment': 'abc',
        algNone,
        forged,
        tampered,
        hs512,
        wrongAudience,
        wrongIssuer,
        badSubject,
        noneSigned,
      };
      for (const [what, token] of Object.entries(cases)) {
        const r = await api.get('/api/auth/me', token);
        expect(r.status, what).toBe(401);
        expect(r.body.error.code, what).toBe('unauthorized');
      }
      const basic = await api.call('GET', '/api/auth/me', {
        headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      });
      expect(basic.status).toBe(401);
      expect(basic.body.error.code).toBe('unauthorized');
    });
  });

  describe('refresh and logout', () => {
    it('refresh needs the cookie', async () => {
      const r = await refresh();
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
      const bogus = await refresh('cf_refresh=made-up-token');
      expect(bogus.status).toBe(401);
    });

    it('rotates the refresh token; reusing a rotated one revokes the whole family', async () => {
      const l = await login(alice.user.email, alice.password);
      const c0 = refreshCookieOf(l.headers);
      expect(c0).toBeDefined();

      const r1 = await refresh(c0);
      expect(r1.status).toBe(200);
      expect(typeof r1.body.token).toBe('string');
      const c1 = refreshCookieOf(r1.headers);
      expect(c1).toBeDefined();
      expect(c1).not.toBe(c0);
      const me = await api.get('/api/auth/me', r1.body.token);
      expect(me.status).toBe(200);
      expect(me.body.user.id).toBe(alice.user.id);

      // The rotated token again: refused, and the family is revoked.
      const reuse = await refresh(c0);
      expect(reuse.status).toBe(401);
      expect(reuse.body.error.code).toBe('unauthorized');
      const afterReuse = await refresh(c1);
      expect(afterReuse.status).toBe(401);
    });

    it('a chain of rotations keeps working until reuse', async () => {
      const l = await login(alice.user.email, alice.password);
      let cookie = refreshCookieOf(l.headers);
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const r = await refresh(cookie);
        expect(r.status).toBe(200);
        cookie = refreshCookieOf(r.headers);
        expect(cookie).toBeDefined();
        expect(seen.has(cookie!)).toBe(false);
        seen.add(cookie!);
      }
    });

    it('the families of two logins are independent', async () => {
      const a = refreshCookieOf((await login(alice.user.email, alice.password)).headers);
      const b = refreshCookieOf((await login(alice.user.email, alice.password)).headers);
      const a1 = await refresh(a);
      expect(a1.status).toBe(200);
      expect((await refresh(a)).status).toBe(401); // reuse revokes family a
      expect((await refresh(refreshCookieOf(a1.headers))).status).toBe(401);
      expect((await refresh(b)).status).toBe(200); // family b untouched
    });

    it('logout revokes the refresh token and clears the cookie', async () => {
      const l = await login(alice.user.email, alice.password);
      const c0 = refreshCookieOf(l.headers);
      const r1 = await refresh(c0);
      const c1 = refreshCookieOf(r1.headers);
      const out = await logout(c1);
      expect(out.status).toBe(204);
      const cleared = out.headers.getSetCookie().find((c) => c.startsWith('cf_refresh='));
      expect(cleared).toBeDefined();
      expect(cleared).toMatch(/^cf_refresh=;/);
      const after = await refresh(c1);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthorized');
    });

    it('logout without a cookie is a harmless 204', async () => {
      expect((await logout()).status).toBe(204);
    });
  });
});
