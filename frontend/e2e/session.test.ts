/**
 * The session in a real browser: access tokens that expire while the board is open are renewed
 * and the socket reconnects without losing the page; a reload keeps the session (refresh
 * cookie); logging out ends it. Access tokens live 6 s here so expiry happens during the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  type BrowserUser,
} from './harness/browser.js';
import { dragWithKeyboard } from './harness/board.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

const titlesIn = (page: Page, status: string) =>
  page
    .locator(`section[data-status="${status}"] li[data-task-id]`)
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));

describe('sessions: expiry, reload, logout', { timeout: 120_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;
  let bob: BrowserUser;
  let sockets = 0;
  let refreshes = 0;

  beforeAll(async () => {
    stack = await startE2EStack({ replicaEnv: { JWT_ACCESS_TTL: '6s' } });
    [alice, bob] = await Promise.all([openUser(stack.originA), openUser(stack.originB)]);
    alice.page.on('websocket', (ws) => {
      if (ws.url().includes('/socket.io/')) sockets += 1;
    });
    alice.page.on('response', (r) => {
      if (r.url().endsWith('/api/auth/refresh') && r.ok()) refreshes += 1;
    });
    for (const [u, who] of [
      [alice, DEMO.alice],
      [bob, DEMO.bob],
    ] as const) {
      await login(u.page, who.email, who.password);
      await u.page
        .getByRole('link', { name: new RegExp(DEMO_PROJECT) })
        .first()
        .click();
      await u.page.locator('section[data-status] li[data-task-id]').first().waitFor();
    }
  }, 180_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  it('an expired access token is renewed and the socket reconnects without leaving the page', async () => {
    const url = alice.page.url();
    const socketsBefore = sockets;
    // The server ends a connection whose token expired; the app renews it and connects again.
    await expect
      .poll(() => sockets, { timeout: 30_000, interval: 250 })
      .toBeGreaterThan(socketsBefore);
    expect(refreshes).toBeGreaterThan(0);
    await expect
      .poll(() => alice.page.getByTestId('connection-banner').count(), { timeout: 15_000 })
      .toBe(0);
    expect(alice.page.url()).toBe(url);

    // Still live both ways: Alice's move reaches Bob on the other replica.
    const [title] = await titlesIn(alice.page, 'todo');
    expect(title).toBeDefined();
    await dragWithKeyboard(alice.page, title!, 1);
    await expect
      .poll(() => titlesIn(bob.page, 'in-progress'), { timeout: 10_000 })
      .toContain(title);
  });

  it('a reload keeps the session and the page', async () => {
    const url = alice.page.url();
    await alice.page.reload();
    await alice.page.locator('section[data-status] li[data-task-id]').first().waitFor();
    expect(alice.page.url()).toBe(url);
  });

  it('logging out ends the session, also after a reload', async () => {
    await alice.page.getByRole('button', { name: 'Log out' }).click();
    await alice.page.waitForURL(/\/login/);
    await alice.page.goto(`${alice.origin}/projects`);
    await alice.page.waitForURL(/\/login/);
    await alice.page.getByLabel('Email', { exact: true }).waitFor();
  });

  it('no page errors', () => {
    expect(pageProblems(alice.page, { allow: [/status of 401/] })).toEqual([]);
    expect(pageProblems(bob.page)).toEqual([]);
  });
});
