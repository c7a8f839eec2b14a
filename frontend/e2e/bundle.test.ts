/**
 * A size budget, not a timing: the JavaScript a signed-in person's browser downloads to show the
 * board page on a first visit (nothing cached), from the production build that `next start`
 * serves through nginx. Each script body is gzipped here with node:zlib at level 6 (zlib's
 * default, what nginx and most CDNs use for on-the-fly compression) and the sizes are summed.
 * The figures go to the test output and to frontend/e2e/artifacts/bundle-size.json.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  closeAllUsers,
  login,
  openUser,
  pageProblems,
  writeArtifact,
  type BrowserUser,
} from './harness/browser.js';
import { DEMO, DEMO_PROJECT, startE2EStack, type E2EStack } from './harness/stack.js';

/** 300 KiB of gzipped JavaScript. */
const BUDGET_BYTES = 300 * 1024;
const GZIP_LEVEL = 6;
/** A card the demo seed puts on the board (backend/src/seed/demo.ts). */
const SEEDED_CARD = 'Write the launch announcement';

interface ScriptSize {
  url: string;
  raw: number;
  gzip: number;
}

/** Records every script response of `page` (first response per URL). */
function recordScripts(page: Page) {
  const seen = new Map<string, Promise<ScriptSize | { url: string; error: string }>>();
  let lastAt = Date.now();
  page.on('response', (res) => {
    if (res.request().resourceType() !== 'script' || seen.has(res.url())) return;
    lastAt = Date.now();
    seen.set(
      res.url(),
      res.body().then(
        (body) => ({
          url: res.url(),
          raw: body.length,
          gzip: gzipSync(body, { level: GZIP_LEVEL }).length,
        }),
        (err: unknown) => ({ url: res.url(), error: String(err) }),
      ),
    );
  });
  return {
    /** Waits until no new script has arrived for `quietMs` (at most `maxMs`), then sums up. */
    async settle(quietMs = 1500, maxMs = 15_000) {
      const start = Date.now();
      while (Date.now() - lastAt < quietMs && Date.now() - start < maxMs) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const all = await Promise.all(seen.values());
      const failed = all.filter((s): s is { url: string; error: string } => 'error' in s);
      const scripts = all
        .filter((s): s is ScriptSize => !('error' in s))
        .sort((a, b) => b.gzip - a.gzip);
      return {
        scripts,
        failed,
        raw: scripts.reduce((n, s) => n + s.raw, 0),
        gzip: scripts.reduce((n, s) => n + s.gzip, 0),
      };
    },
  };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

describe('the board page’s JavaScript, production build', { timeout: 90_000 }, () => {
  let stack: E2EStack | undefined;
  let alice: BrowserUser;

  beforeAll(async () => {
    stack = await startE2EStack();
    alice = await openUser(stack.originA);
  }, 120_000);

  afterAll(async () => {
    await closeAllUsers();
    await stack?.stop();
  }, 60_000);

  it(`stays under ${BUDGET_BYTES / 1024} KiB gzipped on a first visit`, async () => {
    // The way a person gets there: log in, open the demo project from the projects page.
    const journey = recordScripts(alice.page);
    await login(alice.page, DEMO.alice.email, DEMO.alice.password);
    await alice.page.getByRole('link', { name: DEMO_PROJECT }).click();
    await alice.page.waitForURL(/\/projects\/[^/?#]+/);
    await alice.page.getByText(SEEDED_CARD).first().waitFor({ timeout: 30_000 });
    const boardUrl = alice.page.url();
    const viaApp = await journey.settle();

    // The measured visit: the board URL opened in a new tab of the signed-in browser with the
    // HTTP cache disabled, so every script it needs is downloaded as on a first visit.
    const page = await alice.newPage();
    const cdp = await alice.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const board = recordScripts(page);
    await page.goto(boardUrl);
    await page.getByText(SEEDED_CARD).first().waitFor({ timeout: 30_000 });
    const first = await board.settle();
    await cdp.detach();

    const origin = new URL(boardUrl).origin;
    const report = {
      budgetBytes: BUDGET_BYTES,
      gzipLevel: GZIP_LEVEL,
      measuredAt: new Date().toISOString(),
      boardFirstVisit: {
        url: new URL(boardUrl).pathname,
        scripts: first.scripts.length,
        rawBytes: first.raw,
        gzipBytes: first.gzip,
        files: first.scripts.map((s) => ({
          path: s.url.startsWith(origin) ? s.url.slice(origin.length) : s.url,
          raw: s.raw,
          gzip: s.gzip,
        })),
      },
      loginToBoardJourney: {
        scripts: viaApp.scripts.length,
        rawBytes: viaApp.raw,
        gzipBytes: viaApp.gzip,
      },
    };
    const file = writeArtifact('bundle-size', report);
    console.log(
      `[measure] board page first visit: ${first.scripts.length} scripts, ${kib(first.raw)} raw, ` +
        `${kib(first.gzip)} gzipped (zlib level ${GZIP_LEVEL}); budget ${kib(BUDGET_BYTES)}. ` +
        `Login → projects → board in one tab: ${viaApp.scripts.length} scripts, ${kib(viaApp.gzip)} gzipped. ` +
        `Details: ${file}`,
    );

    expect(first.failed, 'script bodies that could not be read').toEqual([]);
    expect(first.scripts.length, 'the board page loads its scripts from the build').toBeGreaterThan(
      0,
    );
    for (const s of first.scripts) expect(s.url.startsWith(`${origin}/`), s.url).toBe(true);
    expect(
      first.gzip,
      `board page JavaScript ${kib(first.gzip)} gzipped; largest: ${first.scripts
        .slice(0, 5)
        .map((s) => `${s.url.slice(origin.length)} ${kib(s.gzip)}`)
        .join(', ')}`,
    ).toBeLessThan(BUDGET_BYTES);
    expect(pageProblems(page)).toEqual([]);
  });
});
