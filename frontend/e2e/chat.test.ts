/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The project chat in real browsers: Alice on origin A (replica 1) and Bob on origin B
 * (replica 2) talk in the demo project; what one writes reaches the other only through Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import {
  axeScan,
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  type BrowserUser,
} from './harness/browser.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

/** A short marker that makes each test's messages unique. */
const token = () => Math.random().toString(36).slice(2, 8);

async function openProject(user: BrowserUser): Promise<void> {
  await user.goto('/projects');
  await user.page
    .getByRole('link', { name: new RegExp(DEMO_PROJECT) })
    .first()
    .click();
  await user.page.waitForURL(/\/projects\/[a-f0-9]{24}/);
  await user.page.locator('section[data-status] li[data-task-id]').first().waitFor();
  // The seeded history of #general is on screen: the chat panel has loaded.
  await log(user.page, 'general')
    .locator('article', { hasText: 'Welcome to the launch project!' })
    .waitFor();
}

const log = (page: Page, channel: string) =>
  page.getByRole('log', { name: `Messages in #${channel}`, exact: true });

const composer = (page: Page, channel: string) =>
  page.getByRole('textbox', { name: `Message #${channel}`, exact: true });

/** The messages of a channel whose text contains `text`. */
const message = (page: Page, channel: string, text: string) =>
  log(page, channel).locator('article[data-message-id]', { hasText: text });

/** The text of a message as rendered (innerText: line breaks as the reader sees them). */
const contentOf = (article: Locator) =>
  article.evaluate((el) => {
    // The header holds name, time and buttons; the paragraph after it is the text.
    const body = el.querySelector('header')?.nextElementSibling as HTMLElement | null;
    return body?.innerText ?? '';
  });

/** Opens a channel by its button ("#name", or "#name, N unread") and waits until it is open. */
async function openChannel(page: Page, channel: string): Promise<void> {
  const button = page
    .getByRole('list', { name: 'Channels' })
    .getByRole('button', { name: new RegExp(`^#${channel}(,|$)`) });
  await button.click();
  await expect.poll(() => button.getAttribute('aria-current')).toBe('true');
  await composer(page, channel).waitFor();
}

/** Types a message into the channel's composer and sends it with Enter. */
async function send(page: Page, channel: string, text: string): Promise<void> {
  const box = composer(page, channel);
  await box.click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await expect.poll(() => box.inputValue()).toBe('');
}

describe('the project chat, two people on two replicas', { timeout: 120_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;
  let bob: BrowserUser;
  let aliceId = '';

  beforeAll(async () => {
    stack = await startE2EStack();
    const res = await fetch(`${stack.originA}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO.alice.email, password: DEMO.alice.password }),
    });
    if (!res.ok) throw new Error(`REST login as alice: ${res.status} ${await res.text()}`);
    aliceId = ((await res.json()) as { user: { id: string } }).user.id;
    [alice, bob] = await Promise.all([openUser(stack.originA), openUser(stack.originB)]);
    await Promise.all([
      login(alice.page, DEMO.alice.email, DEMO.alice.password),
      login(bob.page, DEMO.bob.email, DEMO.bob.password),
    ]);
    await Promise.all([openProject(alice), openProject(bob)]);
  }, 180_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  it('a message Bob sends with Enter reaches Alice within seconds, with the line break Shift+Enter made', async () => {
    const t = token();
    const box = composer(bob.page, 'general');
    await box.click();
    await bob.page.keyboard.type(`First line ${t}`);
    await bob.page.keyboard.press('Shift+Enter');
    await bob.page.keyboard.type('second line');
    // Shift+Enter added a line and sent nothing.
    expect(await box.inputValue()).toBe(`First line ${t}\nsecond line`);
    expect(await message(alice.page, 'general', t).count()).toBe(0);

    const sentAt = Date.now();
    await bob.page.keyboard.press('Enter');
    await expect.poll(() => box.inputValue()).toBe('');

    const onAlice = message(alice.page, 'general', t);
    await expect.poll(() => onAlice.count(), { timeout: 5000, interval: 100 }).toBe(1);
    console.log(`chat: Bob's message reached Alice's page in ${Date.now() - sentAt} ms`);
    expect(await contentOf(onAlice)).toBe(`First line ${t}\nsecond line`);
    expect(await onAlice.locator('header').innerText()).toContain(DEMO.bob.name);
    // Bob sees it once, confirmed (no longer "Sending…"), with the same text.
    const onBob = message(bob.page, 'general', t);
    await expect.poll(() => onBob.getAttribute('data-pending')).toBeNull();
    expect(await onBob.count()).toBe(1);
    expect(await contentOf(onBob)).toBe(`First line ${t}\nsecond line`);
  });

  it('Alice sees "Bob Okafor is typing…" while Bob types, and it goes when he sends', async () => {
    const t = token();
    const indicator = alice.page.getByTestId('typing-indicator');
    expect(await indicator.textContent()).toBe('');

    await composer(bob.page, 'general').click();
    await bob.page.keyboard.type(`Draft ${t}:`);
    // Keep typing (a key every 250 ms) until Alice sees the indicator.
    const text = ' almost done with it';
    const deadline = Date.now() + 10_000;
    let seenAt = 0;
    for (let i = 0; seenAt === 0 && Date.now() < deadline; i++) {
      await bob.page.keyboard.type(text[i % text.length]!);
      if ((await indicator.textContent()) === 'Bob Okafor is typing…') seenAt = Date.now();
      else await bob.page.waitForTimeout(250);
    }
    expect(seenAt, 'Alice never saw Bob typing within 10 s').toBeGreaterThan(0);
    expect(await indicator.textContent()).toBe('Bob Okafor is typing…');
    // Before Bob sends: nothing of the draft has reached Alice's log.
    expect(await message(alice.page, 'general', t).count()).toBe(0);

    const sentAt = Date.now();
    await bob.page.keyboard.press('Enter');
    await expect
      .poll(() => message(alice.page, 'general', t).count(), { timeout: 5000, interval: 100 })
      .toBe(1);
    await expect.poll(() => indicator.textContent(), { timeout: 5000, interval: 100 }).toBe('');
    const cleared = Date.now() - sentAt;
    console.log(`chat: Alice's typing indicator cleared ${cleared} ms after Bob sent`);
    // Sending says "stopped typing" at once; without it the indicator would stay until Bob's
    // 3 s idle signal or the 6 s expiry.
    expect(cleared).toBeLessThan(2000);
  });

  it('an @mention of Alice picked from the suggestion list is highlighted for Alice', async () => {
    const t = token();
    const box = composer(bob.page, 'general');
    await box.click();
    await bob.page.keyboard.type(`Heads up ${t} @Ali`);
    const list = bob.page.getByRole('listbox', { name: 'Mention a member' });
    await list.waitFor();
    const option = list.getByRole('option', { name: DEMO.alice.name });
    expect(await option.getAttribute('aria-selected')).toBe('true');
    await bob.page.keyboard.press('Enter'); // picks the highlighted member
    await list.waitFor({ state: 'detached' });
    await bob.page.keyboard.type('the demo is ready');
    expect(await box.inputValue()).toBe(`Heads up ${t} @Alice Martin the demo is ready`);
    await bob.page.keyboard.press('Enter');

    const onAlice = message(alice.page, 'general', t);
    await expect.poll(() => onAlice.count(), { timeout: 5000, interval: 100 }).toBe(1);
    expect(await onAlice.getAttribute('data-mentions-me')).toBe('true');
    const mention = onAlice.locator(`[data-mention="${aliceId}"]`);
    expect(await mention.textContent()).toBe('@Alice Martin');
    // Only for the person mentioned: Bob's copy is not highlighted, nor is an older message.
    const onBob = message(bob.page, 'general', t);
    await expect.poll(() => onBob.getAttribute('data-pending')).toBeNull();
    expect(await onBob.getAttribute('data-mentions-me')).toBeNull();
    expect(
      await message(alice.page, 'general', 'I have started on the load test').getAttribute(
        'data-mentions-me',
      ),
    ).toBeNull();
  });

  it('messages in another channel count as unread for Alice until she opens it', async () => {
    const t = token();
    // The seed has #general only: Bob creates #random (and is taken into it).
    await bob.page.getByRole('button', { name: '+ Channel' }).click();
    await bob.page.getByLabel('New channel name').fill('random');
    await bob.page.getByRole('button', { name: 'Create', exact: true }).click();
    await composer(bob.page, 'random').waitFor();

    // Alice, on #general, gets the new channel without reloading.
    const randomOnAlice = alice.page
      .getByRole('list', { name: 'Channels' })
      .getByRole('button', { name: /^#random(,|$)/ });
    await randomOnAlice.waitFor({ timeout: 5000 });
    expect(await alice.page.getByTestId('unread-random').count()).toBe(0);

    await send(bob.page, 'random', `Anyone up for lunch? ${t}`);
    await send(bob.page, 'random', `The new place on 5th ${t}`);
    const badge = alice.page.getByTestId('unread-random');
    await expect
      .poll(async () => ((await badge.count()) ? badge.textContent() : null), {
        timeout: 5000,
        interval: 100,
      })
      .toBe('2');
    expect(await randomOnAlice.getAttribute('aria-current')).toBeNull();
    // The channel's accessible name says it in words.
    expect(await randomOnAlice.textContent()).toContain('#random, 2 unread');
    expect(await alice.page.getByTestId('unread-general').count()).toBe(0);

    await openChannel(alice.page, 'random');
    await expect.poll(() => badge.count()).toBe(0);
    await expect.poll(() => message(alice.page, 'random', t).count()).toBe(2);
    // Back to #general: #random stays read.
    await openChannel(alice.page, 'general');
    expect(await badge.count()).toBe(0);
    await openChannel(bob.page, 'general');
  });

  it('Bob edits and deletes his own message, Alice sees "(edited)" then "message deleted"; Bob cannot change Alice’s', async () => {
    const t = token();
    await send(bob.page, 'general', `Standup moved to 10:00 ${t}`);
    const onAlice = message(alice.page, 'general', t);
    await expect.poll(() => onAlice.count(), { timeout: 5000 }).toBe(1);
    const id = await onAlice.getAttribute('data-message-id');
    expect(id).toMatch(/^[a-f0-9]{24}$/);
    const aliceCopy = log(alice.page, 'general').locator(`article[data-message-id="${id}"]`);
    const bobCopy = log(bob.page, 'general').locator(`article[data-message-id="${id}"]`);
    await bobCopy.waitFor();
    // Alice has no Edit or Delete on Bob's message.
    expect(await aliceCopy.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await aliceCopy.getByRole('button', { name: 'Delete' }).count()).toBe(0);

    await bobCopy.getByRole('button', { name: 'Edit', exact: true }).click();
    const editBox = bobCopy.getByRole('textbox', { name: 'Edit message' });
    await editBox.fill(`Standup moved to 10:30 ${t}`);
    await editBox.press('Enter');
    await editBox.waitFor({ state: 'detached' });
    await expect
      .poll(() => contentOf(aliceCopy), { timeout: 5000, interval: 100 })
      .toBe(`Standup moved to 10:30 ${t}`);
    expect(await aliceCopy.locator('header').innerText()).toContain('(edited)');
    expect(await bobCopy.locator('header').innerText()).toContain('(edited)');

    await bobCopy.getByRole('button', { name: 'Delete', exact: true }).click();
    await bobCopy
      .getByRole('group', { name: 'Delete this message?' })
      .getByRole('button', { name: 'Yes, delete' })
      .click();
    await expect
      .poll(() => contentOf(aliceCopy), { timeout: 5000, interval: 100 })
      .toBe('message deleted');
    expect(await aliceCopy.innerText()).not.toContain('10:30');
    expect(await contentOf(bobCopy)).toBe('message deleted');
    expect(await bobCopy.getByRole('button', { name: 'Edit' }).count()).toBe(0);

    // Alice's messages, the seeded one and a new one: Bob gets no Edit or Delete on them.
    await send(alice.page, 'general', `Thanks for the heads-up ${t}`);
    const alicesNew = message(bob.page, 'general', `Thanks for the heads-up ${t}`);
    await expect.poll(() => alicesNew.count(), { timeout: 5000 }).toBe(1);
    const seeded = message(bob.page, 'general', 'Welcome to the launch project!');
    for (const m of [alicesNew, seeded]) {
      expect(await m.getByRole('button', { name: 'Edit' }).count()).toBe(0);
      expect(await m.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    }
    // …while Alice has them on her own.
    const ownOnAlice = message(alice.page, 'general', `Thanks for the heads-up ${t}`);
    await ownOnAlice.getByRole('button', { name: 'Edit', exact: true }).waitFor();
    expect(await ownOnAlice.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(1);
  });

  it('a chat message that is HTML shows as text on both pages and runs no script', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    await send(bob.page, 'general', evil);
    for (const p of [alice.page, bob.page]) {
      const m = message(p, 'general', evil);
      await expect.poll(() => m.count(), { timeout: 5000 }).toBe(1);
      expect(await contentOf(m)).toBe(evil);
      expect(await log(p, 'general').locator('img').count()).toBe(0);
      expect(await p.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    }
  });

  it('the board with the chat panel open has no serious or critical accessibility violations', async () => {
    const panel = alice.page.locator('#project-chat');
    expect(await panel.isVisible()).toBe(true);
    await composer(alice.page, 'general').waitFor();
    expect(await axeScan(alice.page, 'board-with-chat')).toEqual([]);
  });

  it('no page errors on either side', () => {
    expect(pageProblems(alice.page)).toEqual([]);
    expect(pageProblems(bob.page)).toEqual([]);
  });
});
