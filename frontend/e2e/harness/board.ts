/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Reading and driving the Kanban board as a person does: by titles, the drag handle's name
 * ("Move card: <title>"), the mouse and the keyboard. Every step waits on what the page shows
 * (the card picked up, the card in the next column, no move in flight), never on a fixed time.
 */
import { expect } from 'vitest';
import type { Page } from 'playwright-core';

export const STATUSES = ['todo', 'in-progress', 'review', 'done'] as const;
export type Status = (typeof STATUSES)[number];
export type Board = Record<Status, string[]>;

/** Every column's card titles, top to bottom, as the page shows them. */
export function readBoard(page: Page): Promise<Board> {
  return page.evaluate(() => {
    const out: Record<string, string[]> = {};
    for (const col of document.querySelectorAll<HTMLElement>('section[data-status]')) {
      out[col.dataset.status!] = [...col.querySelectorAll('li[data-task-id]')].map(
        (li) => li.getAttribute('aria-label') ?? '',
      );
    }
    return out as Board;
  });
}

/** The card (its list item) whose title button reads `title`. */
export const card = (page: Page, title: string) =>
  page.locator('li[data-task-id]', { has: page.getByRole('button', { name: title, exact: true }) });

/** Waits until no card shows a move in flight (the server answered every drop). */
export async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.locator('li[data-pending]').count(), { timeout: 10_000 }).toBe(0);
}

/** The column the card being dragged is shown in now (null when nothing is picked up). */
function draggedColumn(page: Page): Promise<string | null> {
  return page.evaluate(
    () =>
      document.querySelector('li[data-dragging]')?.closest<HTMLElement>('section[data-status]')
        ?.dataset.status ?? null,
  );
}

export async function dragWithMouse(page: Page, title: string, to: Status): Promise<void> {
  const handle = card(page, title).getByRole('button', { name: `Move card: ${title}` });
  const from = await handle.boundingBox();
  const target = await page.locator(`section[data-status="${to}"] ul`).boundingBox();
  if (!from || !target) throw new Error(`cannot see the card "${title}" or the ${to} column`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + 30, { steps: 4 });
  await page.mouse.move(target.x + target.width / 2, target.y + target.height - 8, { steps: 12 });
  await page.mouse.up();
}

/**
 * Space picks the card up, each Right arrow moves it one column, Space drops it. Each key waits
 * for the previous one to show: the card lifted, then the card in the next column.
 *
 * dnd-kit's KeyboardSensor starts listening for arrows in a `setTimeout` queued when Space
 * lifts the card (`attach()` in @dnd-kit/core), so an arrow pressed before that timer ran is
 * dropped. A zero-delay timer queued in the page after the lift shows runs after the sensor's
 * (timers of equal delay run in the order they were queued); from then on every key is seen,
 * so each is pressed exactly once.
 */
export async function dragWithKeyboard(page: Page, title: string, columnsRight: number) {
  const item = card(page, title);
  const start = (await item.evaluate(
    (el) => el.closest<HTMLElement>('section[data-status]')?.dataset.status,
  )) as Status | undefined;
  if (!start) throw new Error(`the card "${title}" is not on the board`);
  await item.getByRole('button', { name: `Move card: ${title}` }).focus();
  await page.keyboard.press('Space');
  await page.locator('li[data-dragging]').waitFor();
  await page.evaluate(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  let at = STATUSES.indexOf(start);
  for (let i = 0; i < columnsRight; i++) {
    const next = STATUSES[at + 1];
    if (!next) throw new Error(`"${title}" cannot move right of ${STATUSES[at]}`);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => draggedColumn(page), { timeout: 10_000, interval: 50 }).toBe(next);
    at += 1;
  }
  await page.keyboard.press('Space');
  await page.locator('li[data-dragging]').waitFor({ state: 'detached' });
}
