/**
 * The Kanban board in real browsers: Alice on origin A (replica 1) and Bob on origin B
 * (replica 2) share the demo project; what one does reaches the other only through Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeScan,
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  type BrowserUser,
} from './harness/browser.js';
import { card, dragWithKeyboard, dragWithMouse, readBoard, settled } from './harness/board.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

async function openProject(user: BrowserUser, name: string): Promise<string> {
  await user.goto('/projects');
  await user.page
    .getByRole('link', { name: new RegExp(name) })
    .first()
    .click();
  await user.page.waitForURL(/\/projects\/[a-f0-9]{24}/);
  await user.page.locator('section[data-status] li[data-task-id]').first().waitFor();
  return user.page.url();
}

describe('the board, two people on two replicas', { timeout: 120_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;
  let bob: BrowserUser;

  beforeAll(async () => {
    stack = await startE2EStack();
    [alice, bob] = await Promise.all([openUser(stack.originA), openUser(stack.originB)]);
    await Promise.all([
      login(alice.page, DEMO.alice.email, DEMO.alice.password),
      login(bob.page, DEMO.bob.email, DEMO.bob.password),
    ]);
    await Promise.all([openProject(alice, DEMO_PROJECT), openProject(bob, DEMO_PROJECT)]);
  }, 180_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  it('a mouse drag and a keyboard drag from To do to Review reach the other replica and survive a reload', async () => {
    const before = await readBoard(alice.page);
    expect(before.todo.length).toBeGreaterThanOrEqual(2);
    const [first, second] = before.todo as [string, string];

    await dragWithMouse(alice.page, first, 'review');
    await dragWithKeyboard(alice.page, second, 2);
    // Applied at once on Alice's board, before the server answers.
    expect((await readBoard(alice.page)).review).toEqual(expect.arrayContaining([first, second]));
    await settled(alice.page);

    // Bob, on the other replica, sees both in Review within 2 s of the server's answers.
    await expect
      .poll(async () => (await readBoard(bob.page)).review, { timeout: 2000, interval: 100 })
      .toEqual(expect.arrayContaining([first, second]));
    expect((await readBoard(bob.page)).todo).not.toContain(first);
    expect(await readBoard(bob.page)).toEqual(await readBoard(alice.page));

    await bob.page.reload();
    await bob.page.locator('section[data-status] li[data-task-id]').first().waitFor();
    const reloaded = await readBoard(bob.page);
    expect(reloaded.review).toEqual(expect.arrayContaining([first, second]));
    expect(reloaded).toEqual(await readBoard(alice.page));
  });

  it('the board has no serious or critical accessibility violations', async () => {
    expect(await axeScan(alice.page, 'board')).toEqual([]);
  });

  it('a card whose title is HTML shows the text and runs no script', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const page = alice.page;
    await page.getByRole('button', { name: 'Add a card to To do' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Title').fill(evil);
    await dialog.getByRole('button', { name: 'Create card' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await readBoard(bob.page)).todo).toContain(evil);
    for (const p of [alice.page, bob.page]) {
      await expect(card(p, evil).count()).resolves.toBe(1);
      expect(await p.locator('li[data-task-id] img').count()).toBe(0);
      expect(await p.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    }
  });

  it('a person who lost the connection sees the offline banner, then catches up with what happened meanwhile', async () => {
    const board = await readBoard(alice.page);
    const toMove = board['in-progress'].slice(0, 2);
    const toEdit = board.review[0];
    expect(toMove).toHaveLength(2);
    expect(toEdit).toBeDefined();

    await bob.context.setOffline(true);
    const banner = bob.page.getByTestId('connection-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/offline/i);
    // Read-only while offline: no drag handles.
    expect(await bob.page.getByRole('button', { name: /^Move card:/ }).count()).toBe(0);

    for (const title of toMove) {
      await dragWithKeyboard(alice.page, title, 2);
      await settled(alice.page);
    }
    await card(alice.page, toEdit!).getByRole('button', { name: toEdit, exact: true }).click();
    const dialog = alice.page.getByRole('dialog');
    await dialog.getByLabel('Title').fill(`${toEdit} (edited)`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const aliceBoard = await readBoard(alice.page);
    expect(aliceBoard.done).toEqual(expect.arrayContaining(toMove));
    expect(aliceBoard.review).toContain(`${toEdit} (edited)`);
    // Bob saw none of it while cut off.
    expect((await readBoard(bob.page)).done).not.toEqual(expect.arrayContaining(toMove));

    await bob.context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await expect
      .poll(() => readBoard(bob.page), { timeout: 10_000 })
      .toEqual(await readBoard(alice.page));
    // Each card once.
    const all = Object.values(await readBoard(bob.page)).flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it('a viewer gets a read-only board, and the server refuses her moves anyway', async () => {
    const carol = await openUser(stack!.originB);
    await login(carol.page, DEMO.carol.email, DEMO.carol.password);
    await openProject(carol, DEMO_PROJECT);
    const page = carol.page;
    await page.getByText('Read-only: you are a viewer').waitFor();
    expect(await page.getByRole('button', { name: /^Move card:/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Add a card/ }).count()).toBe(0);
    const title = (await readBoard(page)).todo[0] ?? (await readBoard(page)).review[0]!;
    await card(page, title).getByRole('button', { name: title, exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('button', { name: 'Save' }).count()).toBe(0);
    expect(await dialog.getByLabel('Title').isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Close' }).first().click();

    // The server's answer to a viewer's move, sent from her own signed-in page.
    const taskId = await card(page, title).getAttribute('data-task-id');
    const status = await page.evaluate(async (id) => {
      const refresh = await fetch('/api/auth/refresh', { method: 'POST' });
      const { token } = (await refresh.json()) as { token: string };
      const res = await fetch(`/api/tasks/${id}/move`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ status: 'done' }),
      });
      return res.status;
    }, taskId);
    expect(status).toBe(403);
    expect(pageProblems(page, { allow: [/status of 403/] })).toEqual([]);
  });

  it('a long column shows its first 30 cards and the rest on request; the count says all', async () => {
    const page = alice.page;
    const projectId = /\/projects\/([a-f0-9]{24})/.exec(page.url())?.[1];
    expect(projectId).toBeDefined();
    const before = (await readBoard(page)).done.length;
    const extra = 32 - before;
    // Created over REST from Alice's signed-in page, as a script or another tab would.
    await page.evaluate(
      async ({ id, n }) => {
        const { token } = (await (await fetch('/api/auth/refresh', { method: 'POST' })).json()) as {
          token: string;
        };
        for (let i = 0; i < n; i++) {
          const res = await fetch(`/api/projects/${id}/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ title: `Finished thing ${i + 1}`, status: 'done' }),
          });
          if (!res.ok) throw new Error(`create ${i + 1}: ${res.status}`);
        }
      },
      { id: projectId!, n: extra },
    );
    const done = page.locator('section[data-status="done"]');
    await expect.poll(() => page.getByTestId('count-done').innerText()).toMatch(/^32\b/);
    expect(await done.locator('li[data-task-id]').count()).toBe(30);
    await done.getByRole('button', { name: 'Show 2 more cards' }).click();
    expect(await done.locator('li[data-task-id]').count()).toBe(32);
    // Bob's board, on the other replica, got every one of them too.
    await expect.poll(() => bob.page.getByTestId('count-done').innerText()).toMatch(/^32\b/);
  });

  it('no page errors on either side', () => {
    expect(pageProblems(alice.page)).toEqual([]);
    expect(pageProblems(bob.page, { allow: [/ERR_INTERNET_DISCONNECTED|net::/] })).toEqual([]);
  });
});
