import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs the real entry point with an environment and returns how it ended. */
function boot(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'backend/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stderr: r.stderr.trim(), stdout: r.stdout.trim() };
}

describe('start-up configuration', () => {
  it('refuses a production start with the example JWT secret, in one clear line', () => {
    const r = boot({ NODE_ENV: 'production' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^collabflow: invalid configuration: JWT_SECRET is the example secret/,
    );
  });

  it('refuses a production start with SEED_DEMO (demo accounts with a published password), in one clear line', () => {
    const r = boot({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-production-secret-of-our-own-0123456789',
      SEED_DEMO: 'true',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^collabflow: invalid configuration: SEED_DEMO creates demo accounts with a published password; it is refused in production/,
    );
    expect(r.stdout).toBe('');
  });

  it('names every bad variable in that one line and starts nothing', () => {
    const r = boot({ PORT: '70000', JWT_ACCESS_TTL: 'soon', REDIS_URL: 'http://x' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('JWT_ACCESS_TTL must be a duration');
    expect(r.stderr).toContain('REDIS_URL must start with redis:// or rediss://');
    expect(r.stdout).toBe('');
  });
});

describe('operations endpoints', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves an OpenAPI 3.1 document with every REST route of the contract', async () => {
    const r = await client(t.url).get('/api/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const routes = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const route of [
      'POST /api/auth/register',
      'POST /api/auth/login',
      'POST /api/auth/refresh',
      'POST /api/auth/logout',
      'GET /api/auth/me',
      'GET /api/workspaces',
      'POST /api/projects',
      'DELETE /api/projects/{projectId}',
      'POST /api/projects/{projectId}/members',
      'PATCH /api/projects/{projectId}/members/{userId}',
      'GET /api/projects/{projectId}/tasks',
      'PATCH /api/tasks/{taskId}',
      'POST /api/tasks/{taskId}/move',
      'GET /api/channels/{channelId}/messages',
      'DELETE /api/messages/{messageId}',
      'GET /api/projects/{projectId}/events',
      'GET /readyz',
    ]) {
      expect(routes).toContain(route);
    }
    // Request bodies are the zod schemas the routes validate with.
    const register =
      r.body.paths['/api/auth/register'].post.requestBody.content['application/json'].schema;
    expect(register.required).toEqual(expect.arrayContaining(['email', 'password', 'name']));
    expect(register.additionalProperties).toBe(false);
    expect(register.properties.password.minLength).toBe(8);
  });

  it('exposes Prometheus metrics that count requests by route pattern, not by id', async () => {
    const api = client(t.url);
    const u = await registerUser(api, 'Metrics');
    const p = await api.post('/api/projects', { name: 'M' }, u.token);
    await api.get(`/api/projects/${p.body.project.id}`, u.token);
    const m = await fetch(`${t.url}/metrics`);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toMatch(
      /collabflow_http_requests_total\{method="GET",route="\/api\/projects\/:projectId",status="200"\} 1/,
    );
    expect(text).toMatch(/collabflow_domain_events_total|collabflow_process_resident_memory_bytes/);
    expect(text).not.toContain(p.body.project.id);
  });

  it('answers liveness and readiness, and tags every response with a request id', async () => {
    const h = await client(t.url).get('/healthz');
    expect(h.status).toBe(200);
    expect(h.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const given = await client(t.url).call('GET', '/readyz', {
      headers: { 'x-request-id': 'trace-me-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('trace-me-42');
    expect(given.body).toEqual({ status: 'ok', mongo: 'up', redis: 'disabled' });
  });
});
