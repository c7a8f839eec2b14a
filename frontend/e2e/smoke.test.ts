/**
 * Smoke test of the whole product in a real browser: two replicas, the production build of the
 * web app and two nginx origins (harness/stack.ts), Debian's chromium (harness/browser.ts).
 * Alice uses origin A (replica 1), Bob origin B (replica 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import {
  axeScan,
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  screenshot,
  type BrowserUser,
} from './harness/browser.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

/** Logs in through the form and returns the response to the POST /api/auth/login it sent. */
async function loginAndCapture(page: Page, who: { email: string; password: string }) {
  const sent = page.waitForResponse(
    (r: Response) => r.request().method() === 'POST' && r.url().endsWith('/api/auth/login'),
    { timeout: 30_000 },
  );
  await login(page, who.email, who.password);
  return sent;
}

describe('smoke: the web app in chromium, two people on two replicas', { timeout: 90_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;
  let bob: BrowserUser;

  beforeAll(async () => {
    stack = await startE2EStack();
    [alice, bob] = await Promise.all([openUser(stack.originA), openUser(stack.originB)]);
  }, 120_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  const s = () => {
    if (!stack) throw new Error('the stack did not start');
    return stack;
  };

  it('renders the login page with no serious or critical accessibility violations', async () => {
    const page = alice.page;
    await alice.goto('/login');
    await page.getByLabel('Email', { exact: true }).waitFor();
    await page.getByLabel('Password', { exact: true }).waitFor();
    const submit = page.getByRole('button', { name: 'Log in', exact: true });
    // The button is enabled once the app knows nobody is signed in (after its refresh attempt).
    await expect.poll(() => submit.isEnabled(), { timeout: 15_000 }).toBe(true);
    expect(await page.title()).toMatch(/CollabFlow/);
    await screenshot(page, 'smoke-login');
    expect(await axeScan(page, 'login page')).toEqual([]);
    expect(pageProblems(page)).toEqual([]);
  });

  it('logs Alice in through nginx A (replica 1) and shows her projects', async () => {
    const page = alice.page;
    const res = await loginAndCapture(page, DEMO.alice);
    expect(res.status()).toBe(200);
    expect(new URL(res.url()).origin).toBe(s().originA);
    await page.getByRole('link', { name: DEMO_PROJECT }).waitFor();
    await screenshot(page, 'smoke-projects-alice');
    const requestId = await res.headerValue('x-request-id');
    expect(requestId, 'nginx passes X-Request-Id on and the API echoes it').toBeTruthy();
    await expect
      .poll(() => s().servedBy(requestId ?? ''), { timeout: 5000 })
      .toEqual(['e2e-replica-1']);
    expect(pageProblems(page)).toEqual([]);
  });

  it('logs Bob in through nginx B (replica 2) and shows his projects', async () => {
    const page = bob.page;
    const res = await loginAndCapture(page, DEMO.bob);
    expect(res.status()).toBe(200);
    expect(new URL(res.url()).origin).toBe(s().originB);
    await page.getByRole('link', { name: DEMO_PROJECT }).waitFor();
    await screenshot(page, 'smoke-projects-bob');
    const requestId = await res.headerValue('x-request-id');
    expect(requestId).toBeTruthy();
    await expect
      .poll(() => s().servedBy(requestId ?? ''), { timeout: 5000 })
      .toEqual(['e2e-replica-2']);
    expect(pageProblems(page)).toEqual([]);
  });

  it('serves every API call of each person from that person’s replica only', async () => {
    // One request from each page, found by its request id in the replicas' logs.
    const ids = async (user: BrowserUser) => {
      const res = await user.page.evaluate<{ id: string | null; status: number }>(
        `fetch('/readyz').then((r) => ({ id: r.headers.get('x-request-id'), status: r.status }))`,
      );
      expect(res.status).toBe(200);
      return res.id ?? '';
    };
    const fromA = await ids(alice);
    const fromB = await ids(bob);
    await expect.poll(() => s().servedBy(fromA), { timeout: 5000 }).toEqual(['e2e-replica-1']);
    await expect.poll(() => s().servedBy(fromB), { timeout: 5000 }).toEqual(['e2e-replica-2']);
  });
});
