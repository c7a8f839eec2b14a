import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOGIN_DELAY_MAX_MS, loginDelayMs } from '../src/auth/auth.service.js';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

type User = Awaited<ReturnType<typeof registerUser>>;

/** A random client address; the app trusts X-Forwarded-For from loopback (TRUST_PROXY). */
function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

function expectRateLimited(r: { status: number; body: any; headers: Headers }, maxSeconds: number) {
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe('rate_limited');
  const retryAfter = r.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThan(0);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxSeconds);
}

describe('hardening: bad input', () => {
  let t: TestApi;
  let api: ReturnType<typeof client>;
  let alice: User;
  let projectId: string;
  let taskId: string;
  let channelId: string;
  let messageId: string;

  beforeAll(async () => {
    t = await startApi();
    api = client(t.url);
    alice = await registerUser(api, 'Alice');
    projectId = (await api.post('/api/projects', { name: 'H' }, alice.token)).body.project.id;
    taskId = (await api.post(`/api/projects/${projectId}/tasks`, { title: 'T' }, alice.token)).body
      .task.id;
    channelId = (await api.get(`/api/projects/${projectId}/channels`, alice.token)).body.channels[0]
      .id;
    messageId = (
      await api.post(`/api/channels/${channelId}/messages`, { content: 'm' }, alice.token)
    ).body.message.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('invalid ObjectIds in paths are 404 not_found, never 500', async () => {
    const badIds = [
      'xyz',
      '123',
      'g'.repeat(24),
      'a'.repeat(23),
      'a'.repeat(25),
      'aaaaaaaaaaaa', // 12 characters: mongoose would take it as 12 raw bytes
      '%24gt',
      '%7B%7D',
      'null',
    ];
    for (const bad of badIds) {
      const routes: [string, string, unknown?][] = [
        ['GET', `/api/projects/${bad}`],
        ['PATCH', `/api/projects/${bad}`, { name: 'x' }],
        ['DELETE', `/api/projects/${bad}`],
        ['GET', `/api/projects/${bad}/members`],
        ['POST', `/api/projects/${bad}/members`, { email: 'a@b.test', role: 'member' }],
        ['PATCH', `/api/projects/${projectId}/members/${bad}`, { role: 'member' }],
        ['DELETE', `/api/projects/${projectId}/members/${bad}`],
        ['GET', `/api/projects/${bad}/tasks`],
        ['POST', `/api/projects/${bad}/tasks`, { title: 'x' }],
        ['GET', `/api/tasks/${bad}`],
        ['PATCH', `/api/tasks/${bad}`, { title: 'x' }],
        ['POST', `/api/tasks/${bad}/move`, { status: 'done' }],
        ['DELETE', `/api/tasks/${bad}`],
        ['GET', `/api/projects/${bad}/channels`],
        ['POST', `/api/projects/${bad}/channels`, { name: 'x' }],
        ['GET', `/api/channels/${bad}/messages`],
        ['POST', `/api/channels/${bad}/messages`, { content: 'x' }],
        ['PATCH', `/api/messages/${bad}`, { content: 'x' }],
        ['DELETE', `/api/messages/${bad}`],
      ];
      for (const [method, path, body] of routes) {
        const r = await api.call(method, path, { token: alice.token, body });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code, `${method} ${path}`).toBe('not_found');
      }
    }
    // Everything is still there.
    expect((await api.get(`/api/tasks/${taskId}`, alice.token)).status).toBe(200);
    expect((await api.get(`/api/projects/${projectId}`, alice.token)).status).toBe(200);
  });

  it('unknown routes are 404 not_found (after authentication under /api)', async () => {
    const r = await api.get('/api/nothing-here', alice.token);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect((await api.get('/api/nothing-here')).status).toBe(401);
    expect((await api.get('/not-api')).status).toBe(404);
  });

  it('bad JSON is 400 invalid_json and changes nothing', async () => {
    const raws = ['{"title": ', "{'title': 'x'}", '{"title": "x",}', '"just a string"', 'nul'];
    for (const raw of raws) {
      const r = await api.call('POST', `/api/projects/${projectId}/tasks`, {
        token: alice.token,
        raw,
      });
      expect(r.status, raw).toBe(400);
      expect(r.body.error.code, raw).toBe('invalid_json');
      const login = await api.call('POST', '/api/auth/login', { raw });
      expect(login.status, raw).toBe(400);
    }
    const tasks = await api.get(`/api/projects/${projectId}/tasks`, alice.token);
    expect(tasks.body.tasks).toHaveLength(1);
  });

  it('a body that is not JSON, or has unknown keys or __proto__, is 400 validation_failed', async () => {
    const text = await api.call('POST', `/api/projects/${projectId}/tasks`, {
      token: alice.token,
      raw: 'title=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.status).toBe(400);
    expect(text.body.error.code).toBe('validation_failed');
    for (const raw of [
      '{"title":"x","__proto__":{"admin":true}}',
      '{"title":"x","constructor":{"prototype":{"admin":true}}}',
      '{"title":"x","unknown":1}',
    ]) {
      const r = await api.call('POST', `/api/projects/${projectId}/tasks`, {
        token: alice.token,
        raw,
      });
      expect(r.status, raw).toBe(400);
      expect(r.body.error.code, raw).toBe('validation_failed');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const patch = await api.patch(
      `/api/messages/${messageId}`,
      { content: 'x', edited: false },
      alice.token,
    );
    expect(patch.status).toBe(400);
  });

  it('operator objects anywhere in input are 400, never passed to MongoDB', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/api/auth/login', { email: { $gt: '' }, password: { $gt: '' } }],
      ['POST', '/api/auth/register', { email: 'x@y.test', password: { $ne: 1 }, name: 'x' }],
      ['POST', `/api/projects/${projectId}/members`, { email: { $regex: '.*' }, role: 'member' }],
      ['PATCH', `/api/tasks/${taskId}`, { title: 'x', version: { $gte: 0 } }],
      ['POST', `/api/tasks/${taskId}/move`, { status: { $in: ['todo'] } }],
      ['POST', `/api/projects/${projectId}/channels`, { name: { $ne: 'general' } }],
    ];
    for (const [method, path, body] of cases) {
      const r = await api.call(method, path, { token: alice.token, body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error.code, `${method} ${path}`).toBe('validation_failed');
    }
    for (const q of ['?status[$gt]=', '?assignee[$ne]=x', '?status%5B%24gt%5D=']) {
      const r = await api.get(`/api/projects/${projectId}/tasks${q}`, alice.token);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('validation_failed');
    }
  });

  it('an oversized JSON body (~200 kB against the 100 kB default) is 413 payload_too_large', async () => {
    expect(t.config.BODY_LIMIT).toBe('100kb');
    const big = { title: 'big', description: 'x'.repeat(200 * 1024) };
    const r = await api.post(`/api/projects/${projectId}/tasks`, big, alice.token);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    const unauth = await api.post('/api/auth/login', {
      email: 'a@b.test',
      password: 'x'.repeat(200 * 1024),
    });
    expect(unauth.status).toBe(413);
    // Just under the limit is parsed (and then validated: description max is 10 000).
    const under = await api.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'ok', description: 'x'.repeat(90 * 1024) },
      alice.token,
    );
    expect(under.status).toBe(400);
    expect(under.body.error.code).toBe('validation_failed');
    const tasks = await api.get(`/api/projects/${projectId}/tasks`, alice.token);
    expect(tasks.body.tasks).toHaveLength(1);
  });
});

/** One rate-limit suite, run against the in-memory store and against the Redis store. */
function rateLimitSuite(store: 'memory' | 'redis') {
  describe(`hardening: rate limits (${store} store)`, () => {
    let t: TestApi;
    let api: ReturnType<typeof client>;
    let redis: Redis | undefined;

    const loginFrom = (ip: string, email: string, password: string) =>
      api.call('POST', '/api/auth/login', {
        body: { email, password },
        headers: { 'x-forwarded-for': ip },
      });

    beforeAll(async () => {
      const redisUrl = store === 'redis' ? inject('redisUrl') : undefined;
      t = await startApi({
        RATE_LIMIT_LOGIN_PER_EMAIL: '3',
        RATE_LIMIT_LOGIN_PER_IP: '5',
        RATE_LIMIT_API_POINTS: '5',
        REDIS_URL: redisUrl,
      });
      api = client(t.url);
      if (redisUrl) {
        redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        // The limiter's client connects in the background; wait until readyz reports it up,
        // so the budget below is really kept in Redis (not in the in-memory insurance limiter).
        const deadline = Date.now() + 10_000;
        for (;;) {
          const r = await api.get('/readyz');
          if (r.body.redis === 'up') break;
          if (Date.now() > deadline)
            throw new Error(`redis never came up: ${JSON.stringify(r.body)}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    });
    afterAll(async () => {
      redis?.disconnect();
      await t?.close();
    });

    it('readyz reports the store', async () => {
      const r = await api.get('/readyz');
      expect(r.status).toBe(200);
      expect(r.body.redis).toBe(store === 'redis' ? 'up' : 'disabled');
    });

    it('wrong passwords for someone’s e-mail do not lock its owner out: the right password from another address succeeds at once', async () => {
      const victim = await registerUser(api, `Victim${store}`, { ip: randomIp() });
      // More failures for the e-mail than RATE_LIMIT_LOGIN_PER_EMAIL (3), from several addresses.
      for (let i = 0; i < 6; i++) {
        const r = await loginFrom(randomIp(), victim.user.email, 'wrong password');
        expect(r.status, `attempt ${i + 1}`).toBe(401);
        expect(r.body.error.code).toBe('invalid_credentials');
      }
      const owner = await loginFrom(randomIp(), victim.user.email, victim.password);
      expect(owner.status).toBe(200);
      expect(owner.body.token).toEqual(expect.any(String));
      expect(owner.body.user.email).toBe(victim.user.email);
    });

    it('past the per-e-mail count an address that failed waits, 429 with a Retry-After that grows with the e-mail’s failures; the right password after the wait succeeds', async () => {
      const u = await registerUser(api, `Guessed${store}`, { ip: randomIp() });
      const [a, b, c] = [randomIp(), randomIp(), randomIp()];
      const waits: number[] = [];
      const heldNow = async (ip: string) => {
        // Even the right password waits: a held address learns nothing.
        const r = await loginFrom(ip, u.user.email, u.password);
        expectRateLimited(r, 60);
        expect(r.body).not.toHaveProperty('token');
        waits.push(Number(r.headers.get('retry-after')));
      };
      // Failures 1-3 from A: the third reaches the threshold, so A waits 1 s.
      for (let i = 0; i < 3; i++)
        expect((await loginFrom(a, u.user.email, 'wrong password')).status).toBe(401);
      await heldNow(a);
      // Failures 4 and 5 from new addresses B and C (each tries at once): they wait 2 s and 4 s.
      expect((await loginFrom(b, u.user.email, 'wrong password')).status).toBe(401);
      await heldNow(b);
      expect((await loginFrom(c, u.user.email, 'wrong password')).status).toBe(401);
      await heldNow(c);
      expect(waits).toEqual([1, 2, 4]);
      // The wait is per e-mail: A may try another account at once.
      const other = await registerUser(api, `Unrelated${store}`, { ip: randomIp() });
      expect((await loginFrom(a, other.user.email, other.password)).status).toBe(200);
      // After its wait, A logs in with the right password.
      await new Promise((r) => setTimeout(r, waits[0]! * 1000 + 100));
      expect((await loginFrom(a, u.user.email, u.password)).status).toBe(200);
      if (redis) {
        const count = await redis.keys(`collabflow:rl:login-email:*${u.user.email}*`);
        expect(count).toHaveLength(0);
        const held = await redis.keys(`collabflow:rl:login-delay:*${u.user.email}*`);
        expect(held.length).toBe(2);
        for (const key of held) expect(await redis.pttl(key)).toBeGreaterThan(0);
      }
    });

    it('a successful login clears the e-mail’s failure count', async () => {
      const u = await registerUser(api, `Forgetful${store}`, { ip: randomIp() });
      const ip = randomIp();
      expect((await loginFrom(ip, u.user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(ip, u.user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(ip, u.user.email, u.password)).status).toBe(200);
      // Counted from zero again: two more failures from one address, and it is not held.
      expect((await loginFrom(ip, u.user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(ip, u.user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(ip, u.user.email, u.password)).status).toBe(200);
    });

    it('successful logins give their point back: only failures spend an address’s budget', async () => {
      const u = await registerUser(api, `Office${store}`, { ip: randomIp() });
      const ip = randomIp();
      for (let i = 0; i < 8; i++)
        expect((await loginFrom(ip, u.user.email, u.password)).status, `login ${i + 1}`).toBe(200);
    });

    it('failed logins per IP: the 6th attempt from one address is 429, even with the right password; another address is not limited', async () => {
      const ip = randomIp();
      for (let i = 0; i < 5; i++) {
        const r = await loginFrom(ip, `nobody-${i}-${store}@example.test`, 'whatever pw');
        expect(r.status, `attempt ${i + 1}`).toBe(401);
      }
      const blocked = await loginFrom(ip, `nobody-x-${store}@example.test`, 'whatever pw');
      expectRateLimited(blocked, 15 * 60);
      // An address over its own limit gets nowhere, not even with a right password.
      const real = await registerUser(api, `Real${store}`, { ip: randomIp() });
      expectRateLimited(await loginFrom(ip, real.user.email, real.password), 15 * 60);
      // Even a bad body from that address is refused before it is looked at.
      const blockedBad = await api.call('POST', '/api/auth/login', {
        body: { email: { $gt: '' } },
        headers: { 'x-forwarded-for': ip },
      });
      expect(blockedBad.status).toBe(429);
      const elsewhere = await loginFrom(randomIp(), `nobody-y-${store}@example.test`, 'whatever');
      expect(elsewhere.status).toBe(401);
      if (redis) {
        expect(await redis.exists(`collabflow:rl:login-ip:${ip}`)).toBe(1);
      }
    });

    it('the general API limit per user: the 6th authenticated request is 429 with Retry-After', async () => {
      const u = await registerUser(api, `Busy${store}`, { ip: randomIp() });
      for (let i = 0; i < 5; i++) {
        const r = await api.get('/api/projects', u.token);
        expect(r.status, `request ${i + 1}`).toBe(200);
      }
      const blocked = await api.get('/api/projects', u.token);
      expectRateLimited(blocked, 60);
      expect((await api.post('/api/projects', { name: 'x' }, u.token)).status).toBe(429);
      // Another user has a budget of their own.
      const other = await registerUser(api, `Calm${store}`, { ip: randomIp() });
      expect((await api.get('/api/projects', other.token)).status).toBe(200);
      if (redis) {
        expect(await redis.exists(`collabflow:rl:api:${u.user.id}`)).toBe(1);
      }
    });
  });
}

rateLimitSuite('memory');
rateLimitSuite('redis');

describe('hardening: the login wait', () => {
  it('is none below the per-e-mail count, then 1 s doubling with each failure, at most 60 s', () => {
    const waits = [1, 2, 3, 4, 5, 6, 9, 10, 20, 2000].map((f) => loginDelayMs(f, 3));
    expect(waits).toEqual([0, 0, 1000, 2000, 4000, 8000, 60_000, 60_000, 60_000, 60_000]);
    expect(LOGIN_DELAY_MAX_MS).toBe(60_000);
  });
});
