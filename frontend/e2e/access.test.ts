/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Who is in the project and who may see it, in real browsers: presence across tabs and
 * replicas, an outsider who opens the project's address, a member removed while on the board,
 * and a viewer in the chat. Alice uses origin A (replica 1), everyone else origin B (replica 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, WebSocket } from 'playwright-core';
import {
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  writeArtifact,
  type BrowserUser,
} from './harness/browser.js';
import { card, dragWithKeyboard } from './harness/board.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

const token = () => Math.random().toString(36).slice(2, 8);

async function restLogin(origin: string, who: { email: string; password: string }) {
  const res = await fetch(`${origin}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: who.email, password: who.password }),
  });
  if (!res.ok) throw new Error(`REST login as ${who.email}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { token: string; user: { id: string } };
}

async function restGet<T>(origin: string, bearer: string, path: string): Promise<T> {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every Socket.IO frame a page sends and receives, with the connection it travelled on. */
interface FrameLog {
  sockets: WebSocket[];
  received: { ws: WebSocket; text: string }[];
  sent: { ws: WebSocket; text: string }[];
}

function recordFrames(page: Page): FrameLog {
  const log: FrameLog = { sockets: [], received: [], sent: [] };
  const text = (p: string | Buffer) => (typeof p === 'string' ? p : p.toString('utf8'));
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/socket.io/')) return;
    log.sockets.push(ws);
    ws.on('framereceived', (f) => log.received.push({ ws, text: text(f.payload) }));
    ws.on('framesent', (f) => log.sent.push({ ws, text: text(f.payload) }));
  });
  return log;
}

/** The page's one open Socket.IO connection, once the server has accepted it ("40…"). */
async function connectedSocket(frames: FrameLog): Promise<WebSocket> {
  let live: WebSocket | undefined;
  await expect
    .poll(
      () => {
        const open = frames.sockets.filter((ws) => !ws.isClosed());
        live = open.length === 1 ? open[0] : undefined;
        return Boolean(
          live && frames.received.some((f) => f.ws === live && f.text.startsWith('40')),
        );
      },
      { timeout: 15_000, message: 'the page has one connected Socket.IO WebSocket' },
    )
    .toBe(true);
  return live!;
}

async function openProject(user: BrowserUser, page: Page = user.page): Promise<void> {
  await user.goto('/projects', page);
  await page
    .getByRole('link', { name: new RegExp(DEMO_PROJECT) })
    .first()
    .click();
  await page.waitForURL(/\/projects\/[a-f0-9]{24}/);
  await page.locator('section[data-status] li[data-task-id]').first().waitFor();
  await log(page, 'general')
    .locator('article', { hasText: 'Welcome to the launch project!' })
    .waitFor();
}

const log = (page: Page, channel: string) =>
  page.getByRole('log', { name: `Messages in #${channel}`, exact: true });
const composer = (page: Page, channel: string) =>
  page.getByRole('textbox', { name: `Message #${channel}`, exact: true });

async function send(page: Page, channel: string, text: string): Promise<void> {
  const box = composer(page, channel);
  await box.click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await expect.poll(() => box.inputValue()).toBe('');
}

/** Creates a card in To do through the board's dialog. */
async function createCard(page: Page, title: string): Promise<void> {
  await page.getByRole('button', { name: 'Add a card to To do' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByRole('button', { name: 'Create card' }).click();
  await dialog.waitFor({ state: 'detached' });
  await card(page, title).waitFor();
}

describe('presence and access, across two replicas', { timeout: 120_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;
  let bob: BrowserUser | undefined;
  let aliceToken = '';
  let bobId = '';
  let projectId = '';

  const s = () => {
    if (!stack) throw new Error('the stack did not start');
    return stack;
  };

  /** Bob on origin B, signed in, on the demo board (a new browser if the last one was closed). */
  async function bobOnBoard(): Promise<BrowserUser> {
    if (bob) return bob;
    const b = await openUser(s().originB);
    await login(b.page, DEMO.bob.email, DEMO.bob.password);
    await openProject(b);
    bob = b;
    return b;
  }

  beforeAll(async () => {
    stack = await startE2EStack();
    const a = await restLogin(stack.originA, DEMO.alice);
    aliceToken = a.token;
    bobId = (await restLogin(stack.originB, DEMO.bob)).user.id;
    const { projects } = await restGet<{ projects: { id: string; name: string }[] }>(
      stack.originA,
      aliceToken,
      '/api/projects',
    );
    projectId = projects.find((p) => p.name === DEMO_PROJECT)?.id ?? '';
    expect(projectId).toMatch(/^[a-f0-9]{24}$/);
    alice = await openUser(stack.originA);
    await login(alice.page, DEMO.alice.email, DEMO.alice.password);
    await openProject(alice);
  }, 180_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  it('presence: Alice sees Bob online once however many tabs he has, and sees him leave when he closes them', async () => {
    const b = await bobOnBoard();
    const presence = alice.page.getByTestId('presence');
    const bobOnAlice = presence.locator(`li[data-user-id="${bobId}"]`);
    await expect.poll(() => bobOnAlice.count(), { timeout: 10_000, interval: 100 }).toBe(1);
    expect(await bobOnAlice.locator('[title]').getAttribute('title')).toBe(
      `${DEMO.bob.name} is online`,
    );

    // A second tab of the same project, same person.
    const second = await b.newPage();
    await openProject(b, second);
    // Sentinel: a message from the second tab, sent after it joined; once it reached Alice,
    // whatever that join announced has reached her too.
    const t = token();
    await send(second, 'general', `Hello from my second tab ${t}`);
    await expect
      .poll(() => log(alice.page, 'general').locator('article', { hasText: t }).count(), {
        timeout: 5000,
      })
      .toBe(1);
    expect(await bobOnAlice.count()).toBe(1);
    expect(await presence.getAttribute('aria-label')).toBe(
      `Online now: ${DEMO.alice.name} (you), ${DEMO.bob.name}`,
    );

    // Both tabs closed (the whole browser): Bob leaves Alice's presence bar.
    const closedAt = Date.now();
    await b.close();
    bob = undefined;
    await expect.poll(() => bobOnAlice.count(), { timeout: 10_000, interval: 100 }).toBe(0);
    const leftAfter = Date.now() - closedAt;
    console.log(`presence: Bob left Alice's presence bar ${leftAfter} ms after closing his tabs`);
    writeArtifact('presence-leave', { leftAfterMs: leftAfter, presenceTtl: '6s' });
    expect(leftAfter).toBeLessThan(10_000);
    expect(await presence.getAttribute('aria-label')).toBe(`Online now: ${DEMO.alice.name} (you)`);
  });

  it('a signed-in outsider who opens the project’s address gets "No access to this project" and receives none of its events', async () => {
    const b = await bobOnBoard();
    const outsider = await openUser(s().originB);
    const frames = recordFrames(outsider.page);
    const page = outsider.page;
    const t = token();

    // A new account through the real form.
    await outsider.goto('/register');
    await page.getByLabel('Name', { exact: true }).fill('Olivia Outsider');
    await page.getByLabel('Email', { exact: true }).fill(`outsider-${t}@example.test`);
    await page.getByLabel('Password', { exact: true }).fill('outsider-password');
    const create = page.getByRole('button', { name: 'Create account', exact: true });
    await expect.poll(() => create.isEnabled(), { timeout: 15_000 }).toBe(true);
    await create.click();
    await page.waitForURL(/\/projects\/?(?:[?#].*)?$/, { timeout: 20_000 });

    await outsider.goto(`/projects/${projectId}`);
    await page.getByRole('heading', { name: 'No access to this project' }).waitFor();
    expect(await page.locator('section[data-status], #project-chat').count()).toBe(0);
    const ws = await connectedSocket(frames);

    // Meanwhile Alice creates a card, moves it, and creates a sentinel card.
    const secret = `Secret launch date ${t}`;
    const sentinel = `Sentinel card ${t}`;
    await createCard(alice.page, secret);
    await dragWithKeyboard(alice.page, secret, 1);
    await expect
      .poll(() => alice.page.locator('li[data-pending]').count(), { timeout: 10_000 })
      .toBe(0);
    const column = (p: Page, title: string) =>
      card(p, title).evaluate((el) => el.closest('section')?.dataset.status);
    expect(await column(alice.page, secret)).toBe('in-progress');
    await createCard(alice.page, sentinel);
    // Bob, on the outsider's replica, has all of it: replica 2 has sent it to the project room.
    await card(b.page, sentinel).waitFor({ timeout: 5000 });
    expect(await column(b.page, secret)).toBe('in-progress');

    // The outsider's own sentinel, on the same connection, after all of Alice's events: a
    // project of their own and a card in it, whose event comes back over the socket.
    await page.getByRole('heading', { name: 'No access to this project' }).waitFor();
    await page.getByRole('link', { name: 'Back to your projects' }).click();
    await page.waitForURL(/\/projects\/?$/);
    const newProject = page.getByRole('button', { name: 'New project', exact: true });
    await expect.poll(() => newProject.isEnabled(), { timeout: 15_000 }).toBe(true);
    await newProject.click();
    await page.getByLabel('Project name').fill(`Outsider’s own project ${t}`);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[a-f0-9]{24}$/);
    const ownCard = `Outsider’s own card ${t}`;
    await createCard(page, ownCard);
    await expect
      .poll(() => frames.received.some((f) => f.ws === ws && f.text.includes(ownCard)), {
        timeout: 10_000,
        message: 'the outsider’s own card event arrives on the connection that was open',
      })
      .toBe(true);
    expect(ws.isClosed()).toBe(false);

    const leaked = frames.received
      .filter((f) =>
        [projectId, secret, sentinel, DEMO_PROJECT].some((needle) => f.text.includes(needle)),
      )
      .map((f) => f.text.slice(0, 200));
    expect(leaked).toEqual([]);
    // The outsider never asked to join the project either.
    expect(frames.sent.filter((f) => f.text.includes(projectId)).map((f) => f.text)).toEqual([]);
    expect(pageProblems(page, { allow: [/status of 40[34]/] })).toEqual([]);
    await outsider.close();
  });

  it('a viewer has no composer and sends no typing or chat events, while she sees others typing', async () => {
    const b = await bobOnBoard();
    const carol = await openUser(s().originB);
    const frames = recordFrames(carol.page);
    await login(carol.page, DEMO.carol.email, DEMO.carol.password);
    await openProject(carol);
    const page = carol.page;
    await page.getByText('Read-only: you are a viewer').waitFor();

    const panel = page.locator('#project-chat');
    await panel.getByText('viewers cannot post messages').waitFor();
    expect(await composer(page, 'general').count()).toBe(0);
    expect(await panel.locator('textarea, input, [contenteditable="true"]').count()).toBe(0);
    expect(await panel.getByRole('button', { name: 'Send' }).count()).toBe(0);
    expect(await panel.getByRole('button', { name: '+ Channel' }).count()).toBe(0);
    // No Edit or Delete on anyone's messages either.
    expect(await panel.getByRole('button', { name: /^(Edit|Delete)$/ }).count()).toBe(0);

    // Carol tries anyway: keys in the message log and on the page.
    await log(page, 'general').focus();
    await page.keyboard.type('hello there');
    await page.keyboard.press('Enter');

    // Sentinel: Bob types (on Carol's replica). Alice sees him alone typing, Carol sees him too.
    const aliceIndicator = alice.page.getByTestId('typing-indicator');
    const carolIndicator = page.getByTestId('typing-indicator');
    const box = composer(b.page, 'general');
    await box.click();
    const text = 'just a moment';
    const deadline = Date.now() + 10_000;
    let seen = false;
    for (let i = 0; !seen && Date.now() < deadline; i++) {
      await b.page.keyboard.type(text[i % text.length]!);
      seen =
        (await aliceIndicator.textContent()) === 'Bob Okafor is typing…' &&
        (await carolIndicator.textContent()) === 'Bob Okafor is typing…';
      if (!seen) await b.page.waitForTimeout(250);
    }
    expect(await aliceIndicator.textContent()).toBe('Bob Okafor is typing…');
    expect(await carolIndicator.textContent()).toBe('Bob Okafor is typing…');
    await box.fill('');

    // Carol's page joined the channel to read it (so frames were recorded), and never sent a
    // typing signal or a message.
    expect(frames.sent.some((f) => f.text.includes('"chat:join"'))).toBe(true);
    expect(
      frames.sent.filter((f) => /"chat:(typing|message)"/.test(f.text)).map((f) => f.text),
    ).toEqual([]);
    expect(await log(alice.page, 'general').getByText('hello there').count()).toBe(0);
    expect(pageProblems(page)).toEqual([]);
    await carol.close();
  });

  it('a member removed while on the board is taken to the project list with a notice; re-invited, he is back', async () => {
    const b = await bobOnBoard();
    await alice.page.getByRole('link', { name: 'Settings & members' }).click();
    await alice.page.waitForURL(/\/settings$/);
    const row = alice.page.getByTestId(`member-${bobId}`);
    await row.getByRole('button', { name: `Remove ${DEMO.bob.name}` }).click();
    await row
      .getByRole('group', { name: `Confirm removing ${DEMO.bob.name}` })
      .getByRole('button', { name: 'Yes, remove' })
      .click();
    const removedAt = Date.now();

    await b.page.waitForURL(/\/projects\?notice=removed/, { timeout: 5000 });
    console.log(`access: Bob's page left the board ${Date.now() - removedAt} ms after removal`);
    expect(new URL(b.page.url()).searchParams.get('project')).toBe(DEMO_PROJECT);
    await b.page
      .getByRole('alert')
      .filter({ hasText: `You were removed from ${DEMO_PROJECT}.` })
      .waitFor();
    expect(await b.page.locator('section[data-status]').count()).toBe(0);
    await row.waitFor({ state: 'detached' });
    // His project list (loaded now) no longer has it.
    const newProject = b.page.getByRole('button', { name: 'New project', exact: true });
    await expect.poll(() => newProject.isEnabled(), { timeout: 15_000 }).toBe(true);
    expect(await b.page.getByRole('link', { name: DEMO_PROJECT }).count()).toBe(0);

    // Alice invites him again as a member, through the same page.
    await alice.page.getByLabel('Invite by email').fill(DEMO.bob.email);
    await alice.page.getByLabel('Role', { exact: true }).selectOption('member');
    await alice.page.getByRole('button', { name: 'Invite', exact: true }).click();
    await row.waitFor();
    expect(await row.getByLabel(`Role for ${DEMO.bob.name}`).inputValue()).toBe('member');
    const { members } = await restGet<{ members: { userId: string; role: string }[] }>(
      s().originA,
      aliceToken,
      `/api/projects/${projectId}/members`,
    );
    expect(members.find((m) => m.userId === bobId)?.role).toBe('member');
    // And Bob can open the board again.
    await openProject(b);
    await composer(b.page, 'general').waitFor();
  });

  it('no page errors', () => {
    expect(pageProblems(alice.page)).toEqual([]);
    if (bob) expect(pageProblems(bob.page)).toEqual([]);
  });
});
