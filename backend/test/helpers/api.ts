import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createCollabServer, type CollabServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';

/** A database name of its own for each test file (or server), on the shared FerretDB. */
export function freshMongoUri(prefix = 'cf'): string {
  const base = inject('mongoUrl').replace(/\/[^/]*$/, '/');
  return `${base}${prefix}_${randomBytes(5).toString('hex')}`;
}

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    PASSWORD_HASH_COST: '10',
    // Test files register many users from 127.0.0.1; tests of the limit set their own.
    RATE_LIMIT_LOGIN_PER_IP: '100000',
    MONGODB_URI: freshMongoUri(),
    ...overrides,
  };
}

export interface TestApi {
  server: CollabServer;
  config: Config;
  url: string;
  close(): Promise<void>;
}

/** The real server (Express + MongoDB-protocol storage) in this process, on a free port. */
export async function startApi(
  overrides: Record<string, string | undefined> = {},
): Promise<TestApi> {
  const config = loadConfig(testEnv(overrides) as NodeJS.ProcessEnv);
  const server = await createCollabServer(config, createLogger('silent', 'test'));
  const port = await server.listen(0, '127.0.0.1');
  return { server, config, url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client over real HTTP. */
export function client(baseUrl: string) {
  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  return {
    call,
    get: <T = any>(path: string, token?: string) => call<T>('GET', path, { token }),
    post: <T = any>(path: string, body: unknown, token?: string) =>
      call<T>('POST', path, { body, token }),
    patch: <T = any>(path: string, body: unknown, token?: string) =>
      call<T>('PATCH', path, { body, token }),
    del: <T = any>(path: string, token?: string) => call<T>('DELETE', path, { token }),
  };
}

let counter = 0;
/** Registers a user with a unique email and returns the token and user. */
export async function registerUser(
  api: ReturnType<typeof client>,
  name = 'User',
  opts: { ip?: string } = {},
): Promise<{ token: string; user: { id: string; email: string; name: string }; password: string }> {
  const email = `${name.toLowerCase().replace(/\W+/g, '')}-${Date.now().toString(36)}-${counter++}@example.test`;
  const password = 'correct horse battery';
  // With `ip`, the request comes "from" that address (X-Forwarded-For; the app trusts loopback
  // proxies), so suites that test the per-IP limit do not share a budget with everyone else.
  const res = await api.call('POST', '/api/auth/register', {
    body: { email, password, name },
    headers: opts.ip ? { 'x-forwarded-for': opts.ip } : {},
  });
  if (res.status !== 201)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.token, user: res.body.user, password };
}
