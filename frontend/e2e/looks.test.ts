/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * How the project page looks, for the README and for review: the board and the chat on a desktop
 * (1440×900) and a phone (390×844), light and dark, as Alice sees them while Bob (on the other
 * replica) is online and has written to her. Screenshots go to frontend/e2e/artifacts/; the
 * layout facts that must hold are asserted, and axe-core scans the dark phone board and the dark
 * login page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  ARTIFACTS_DIR,
  axeScan,
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  screenshot,
  type BrowserUser,
} from './harness/browser.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

const VIEWPORTS = {
  desktop: { width: 1440, height: 900 },
  phone: { width: 390, height: 844 },
} as const;
type Device = keyof typeof VIEWPORTS;
type Scheme = 'light' | 'dark';
const CASES: [Device, Scheme][] = [
  ['desktop', 'light'],
  ['desktop', 'dark'],
  ['phone', 'light'],
  ['phone', 'dark'],
];

const FIRST = 'Morning! The load-test results are in: p99 stays under 80 ms.';
const MENTION_TAIL = 'could you review the launch announcement before lunch?';

async function openProject(user: BrowserUser): Promise<void> {
  await user.goto('/projects');
  await user.page
    .getByRole('link', { name: new RegExp(DEMO_PROJECT) })
    .first()
    .click();
  await user.page.waitForURL(/\/projects\/[a-f0-9]{24}/);
  await user.page.locator('section[data-status] li[data-task-id]').first().waitFor();
}

const composer = (page: Page) =>
  page.getByRole('textbox', { name: 'Message #general', exact: true });

/** The relative luminance (0 black … 1 white) of the body's background colour. */
function bodyLuminance(page: Page): Promise<number> {
  return page.evaluate(() => {
    const bg = getComputedStyle(document.body).backgroundColor;
    const [r, g, b] = (bg.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number) as [
      number,
      number,
      number,
    ];
    const lin = (c: number) => {
      const v = c / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  });
}

/** scrollWidth and clientWidth of the board (the element holding the four columns). */
function boardWidths(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const board = document.querySelector('section[data-status]')?.parentElement;
    if (!board) throw new Error('no board on the page');
    return { scrollWidth: board.scrollWidth, clientWidth: board.clientWidth };
  });
}

describe(
  'looks: the board and the chat on desktop and phone, light and dark',
  { timeout: 120_000 },
  () => {
    let stack: E2EStack | undefined;
    let bob: BrowserUser;
    let bobId = '';

    const s = () => {
      if (!stack) throw new Error('the stack did not start');
      return stack;
    };

    beforeAll(async () => {
      stack = await startE2EStack();
      const res = await fetch(`${stack.originB}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: DEMO.bob.email, password: DEMO.bob.password }),
      });
      if (!res.ok) throw new Error(`REST login as bob: ${res.status} ${await res.text()}`);
      bobId = ((await res.json()) as { user: { id: string } }).user.id;

      // Bob stays online on origin B (replica 2) and writes two messages, one mentioning Alice.
      bob = await openUser(stack.originB);
      await login(bob.page, DEMO.bob.email, DEMO.bob.password);
      await openProject(bob);
      const page = bob.page;
      const box = composer(page);
      const emptied = () =>
        page.waitForFunction(
          () =>
            document.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message #general"]')
              ?.value === '',
        );
      await box.click();
      await page.keyboard.type(FIRST);
      await page.keyboard.press('Enter');
      await emptied();
      await page.keyboard.type('@Ali');
      await page.getByRole('listbox', { name: 'Mention a member' }).waitFor();
      await page.keyboard.press('Enter');
      await page.keyboard.type(MENTION_TAIL);
      expect(await box.inputValue()).toBe(`@Alice Martin ${MENTION_TAIL}`);
      await page.keyboard.press('Enter');
      await emptied();
      // Both confirmed by the server (no longer "Sending…").
      await page.waitForFunction(
        () =>
          document.querySelectorAll('article[data-message-id]').length >= 4 &&
          !document.querySelector('article[data-pending]'),
      );
    }, 180_000);

    afterAll(async () => {
      await closeAllUsers();
      await stack?.stop();
    }, 60_000);

    for (const [device, scheme] of CASES) {
      it(`${device} ${scheme}: the board and the chat, with Bob online and a mention for Alice`, async () => {
        const user = await openUser(s().originA, {
          colorScheme: scheme,
          viewport: VIEWPORTS[device],
        });
        const page = user.page;

        if (scheme === 'dark') {
          await user.goto('/login');
          const submit = page.getByRole('button', { name: 'Log in', exact: true });
          await expect.poll(() => submit.isEnabled(), { timeout: 15_000 }).toBe(true);
          expect(await bodyLuminance(page)).toBeLessThan(0.05);
          await screenshot(page, `login-${device}-dark`);
          expect(await axeScan(page, `login-${device}-dark`)).toEqual([]);
        }

        await login(page, DEMO.alice.email, DEMO.alice.password);
        await openProject(user);
        const chat = page.locator('#project-chat');
        const mention = chat.locator('article[data-mentions-me="true"]', { hasText: MENTION_TAIL });
        await mention.waitFor({ state: 'attached' });
        await chat.locator('article', { hasText: FIRST }).waitFor({ state: 'attached' });
        // Bob's avatar is in the presence bar.
        const bobAvatar = page.getByTestId('presence').locator(`li[data-user-id="${bobId}"]`);
        await bobAvatar.waitFor();
        expect(await bobAvatar.isVisible()).toBe(true);

        const luminance = await bodyLuminance(page);
        if (scheme === 'dark') expect(luminance).toBeLessThan(0.05);
        else expect(luminance).toBeGreaterThan(0.8);

        // The page itself never scrolls sideways; only the board does, where it must. (Soft, so
        // that the rest of the checks and the screenshots still happen when this one fails.)
        const pageWidths = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        expect
          .soft(
            pageWidths.scrollWidth,
            `the page is ${pageWidths.scrollWidth} px wide in a ${pageWidths.clientWidth} px viewport, ` +
              'so the whole page pans sideways (absolutely positioned content outside the board’s scroll box)',
          )
          .toBeLessThanOrEqual(pageWidths.clientWidth);

        const toggle = page.getByRole('button', { name: /^(Chat|Close chat)$/ });
        if (device === 'desktop') {
          // The chat sits beside the board, no toggle needed.
          expect(await chat.isVisible()).toBe(true);
          expect(await toggle.isVisible()).toBe(false);
          await composer(page).waitFor();
          expect(await mention.isVisible()).toBe(true);
          await screenshot(page, `board-desktop-${scheme}`);
          mkdirSync(ARTIFACTS_DIR, { recursive: true });
          await chat.screenshot({ path: join(ARTIFACTS_DIR, `chat-desktop-${scheme}.png`) });
        } else {
          // The four columns do not fit: the board scrolls sideways; the chat waits behind "Chat".
          const widths = await boardWidths(page);
          expect(widths.scrollWidth).toBeGreaterThan(widths.clientWidth);
          expect(await chat.isVisible()).toBe(false);
          expect(await composer(page).isVisible()).toBe(false);
          const open = page.getByRole('button', { name: 'Chat', exact: true });
          expect(await open.getAttribute('aria-expanded')).toBe('false');
          await screenshot(page, `board-phone-${scheme}`);
          if (scheme === 'dark') expect(await axeScan(page, 'board-phone-dark')).toEqual([]);

          await open.click();
          const close = page.getByRole('button', { name: 'Close chat', exact: true });
          expect(await close.getAttribute('aria-expanded')).toBe('true');
          await composer(page).waitFor();
          expect(await chat.isVisible()).toBe(true);
          await mention.waitFor();
          expect(await mention.isVisible()).toBe(true);
          await screenshot(page, `chat-phone-${scheme}`);
          if (scheme === 'dark') expect(await axeScan(page, 'chat-phone-dark')).toEqual([]);
          expect(pageProblems(page)).toEqual([]);

          // The drawer can be closed again: its "Close chat" button is not under the drawer.
          const covered = await close.evaluate((el) => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            if (!hit || el.contains(hit)) return null;
            const owner = hit.closest('[id]');
            return `<${hit.tagName.toLowerCase()}> inside #${owner?.id ?? '?'} covers it at ${Math.round(r.y)} px from the top`;
          });
          expect(
            covered,
            `the "Close chat" button is covered by the open chat drawer (${covered}), so a phone user cannot close it`,
          ).toBeNull();
          await close.click();
          await chat.waitFor({ state: 'hidden' });
          expect(await open.getAttribute('aria-expanded')).toBe('false');
        }

        expect(pageProblems(page)).toEqual([]);
        await user.close();
      });
    }

    it('no page errors on Bob’s side', () => {
      expect(pageProblems(bob.page)).toEqual([]);
    });
  },
);
