/**
 * `npm run bench:web`: how the web board behaves with many cards, in a real browser.
 *
 * It starts its own Redis and database (PostgreSQL + FerretDB with its PostgreSQL handler, as
 * `npm run bench:chat` does; loopback, a temporary data dir), one backend replica
 * (`node --import tsx backend/src/main.ts`), the built web app (`next start`) and one nginx in
 * front of both, so the browser has one origin. It registers a user over REST, creates a project
 * with N cards spread over the four columns, then drives Debian's chromium with playwright-core,
 * launched exactly as the browser tests launch it (frontend/e2e/harness/browser.ts), with an
 * instrumentation script installed before any page script (bench/lib/web-page.ts): a React
 * DevTools-style hook that counts CardBody and SortableCard renders per commit, a long-task
 * observer and frame timers. It logs in through the real form, opens the board and measures:
 *
 *   load      navigation start -> first card visible, -> all N cards in the DOM; JS transferred
 *   idle      2 s with nothing happening (a baseline for frames and renders)
 *   keyboard  Space on a To do card's handle, ArrowRight twice, Space: the card goes to Review
 *   mouse     mouse down on an In progress card's handle, move in steps to Done, mouse up
 *   remote    another client moves a card over REST while the page is open
 *
 * For each interaction: CardBody and SortableCard renders, React commits, drop -> card shown in
 * the target column, drop -> the server's answer applied, long tasks, and frame times. Prints a
 * table, writes JSON to .collabflow/bench/web-<timestamp>.json and stops everything it started
 * (by PID). It asserts nothing about timing.
 *
 *   npm run bench:web -- --cards 500
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import {
  startDatabase,
  startRedis,
  freePort,
  type ManagedService,
} from '../scripts/lib/services.js';
import type { Managed } from '../frontend/e2e/harness/process.js';
import {
  login,
  openUser,
  pageProblems,
  type BrowserUser,
} from '../frontend/e2e/harness/browser.js';
import { HttpError, mapLimit, request } from './lib/api.js';
import { cpuMark, cpuSince, type CpuMark } from './lib/web-cpu.js';
import { startReplica, type Replica } from './lib/replica.js';
import { summarize, type Summary } from './lib/stats.js';
import {
  benchInitScript,
  type DropState,
  type PageSnapshot,
  type PhaseResult,
  type RenderCounts,
} from './lib/web-page.js';
import { assertBuilt, startNginx, startWebApp, type WebProcess } from './lib/web-stack.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------- options ----------
const { values: flags } = parseArgs({
  options: {
    cards: { type: 'string', default: '500' },
    'max-seconds': { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    [
      'usage: npm run bench:web -- [options]',
      '  --cards N        cards on the board, spread over the four columns (default 500, min 8)',
      '  --max-seconds X  watchdog: stop everything and fail after X s (default 300)',
      '  --keep           keep the temporary data dir (replica, Redis, FerretDB, PostgreSQL, nginx files)',
      '',
      'Needs the built web app (frontend/.next/BUILD_ID) and shared/dist:',
      '  npm run build -w @collabflow/shared',
      '  (cd frontend && NEXT_TELEMETRY_DISABLED=1 npx next build)',
    ].join('\n'),
  );
  process.exit(0);
}
function intFlag(name: 'cards' | 'max-seconds', min: number): number {
  const raw = flags[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:web: --${name} must be an integer >= ${min} (got ${String(raw)})`);
    process.exit(2);
  }
  return n;
}
const CARDS = intFlag('cards', 8);
const MAX_SECONDS = intFlag('max-seconds', 30);

const SETUP_CONCURRENCY = 8;
/** Attempts per card when the server answers 409 conflict (a lost race for the column end). */
const CREATE_ATTEMPTS = 8;
const PASSWORD = 'bench-password-not-secret';
const STATUSES = ['todo', 'in-progress', 'review', 'done'] as const;
type Status = (typeof STATUSES)[number];
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
/** After the drop settles, how long to keep counting (trailing commits, effects). */
const TRAIL_MS = 400;

// ---------- progress ----------
const t0 = performance.now();
function log(line: string) {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[bench:web +${s}s] ${line}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- what we started, for teardown ----------
const started = {
  dir: undefined as string | undefined,
  services: [] as ManagedService[],
  replica: undefined as Replica | undefined,
  web: undefined as WebProcess | undefined,
  nginx: undefined as Managed | undefined,
  browser: undefined as BrowserUser | undefined,
};
let teardownPromise: Promise<void> | undefined;

/** Closes chromium; stops nginx, the web app, the replica, Redis, FerretDB, PostgreSQL (by PID). */
function teardown(): Promise<void> {
  teardownPromise ??= (async () => {
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        log(`stopping ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    if (started.browser) await step('chromium', () => started.browser!.close());
    if (started.nginx) await step('nginx', () => started.nginx!.stop(5000));
    if (started.web) await step('the web app', () => started.web!.proc.stop(10_000));
    if (started.replica) await step('the replica', () => started.replica!.stop());
    for (const s of [...started.services].reverse()) await step(s.name, () => s.stop());
    if (started.dir) {
      if (flags.keep) log(`kept ${started.dir}`);
      else rmSync(started.dir, { recursive: true, force: true });
    }
  })();
  return teardownPromise;
}

function abort(why: string, code: number) {
  log(`${why}: stopping everything this benchmark started`);
  void teardown()
    .catch((err: unknown) => log(`teardown failed: ${String(err)}`))
    .finally(() => process.exit(code));
}
process.once('SIGINT', () => abort('interrupted', 130));
process.once('SIGTERM', () => abort('terminated', 143));
const watchdog = setTimeout(
  () => abort(`still running after ${MAX_SECONDS} s`, 1),
  MAX_SECONDS * 1000,
);
watchdog.unref();

// ---------- in-page helpers (string expressions: see bench/lib/web-page.ts) ----------
const js = (v: unknown) => JSON.stringify(v);

async function endPhase(page: Page): Promise<PhaseResult> {
  const r = await page.evaluate<PhaseResult | null>('window.__bench.end()');
  if (!r) throw new Error('no measurement phase was running in the page');
  return r;
}

async function snapshot(page: Page): Promise<PageSnapshot> {
  return page.evaluate<PageSnapshot>('window.__bench.snapshot()');
}

/** The first `n` cards of a column, top to bottom: id and title. */
async function cardsIn(page: Page, status: Status, n: number) {
  return page.evaluate<{ id: string; title: string }[]>(
    `Array.from(document.querySelectorAll('section[data-status=${js(status)}] li[data-task-id]'))` +
      `.slice(0, ${n}).map((li) => ({ id: li.getAttribute('data-task-id'), title: li.getAttribute('aria-label') }))`,
  );
}

async function statusInDom(page: Page, id: string): Promise<string | null> {
  return page.evaluate<string | null>(
    `(() => { const li = document.querySelector('li[data-task-id=${js(id)}]'); ` +
      `return li ? li.closest('section[data-status]')?.getAttribute('data-status') ?? null : null; })()`,
  );
}

// ---------- results ----------
interface Interaction {
  name: string;
  what: string;
  cardBodyRenders: number;
  /** How many different cards those CardBody renders were of. */
  cardBodyCards: number;
  sortableCardRenders: number;
  sortableCardCards: number;
  commits: number;
  counts: RenderCounts;
  /** Drop (or REST call) -> first frame with the card in the target column, ms. */
  dropToVisibleMs: number | null;
  /** Drop -> first frame with the card in the target column and the server's answer applied. */
  dropToSettledMs: number | null;
  inTargetAtDrop: boolean | null;
  longTasks: { count: number; totalMs: number; maxMs: number };
  frames: Summary | null;
  /** Frames longer than 50 ms (three missed 60 Hz frames). */
  framesOver50ms: number;
  durationMs: number;
  landedIn: string | null;
  serverStatus: string | null;
  restMoveMs?: number;
  /** CPU seconds in the phase: this run's processes (chromium included) and everything else. */
  cpu: { ours: number | null; others: number | null };
  /** Keyboard drag only: renders caused by each key press (pick up, each arrow, drop + settle). */
  steps?: { step: string; CardBody: number; SortableCard: number; commits: number }[];
}

function interaction(
  name: string,
  what: string,
  r: PhaseResult,
  landedIn: string | null,
  serverStatus: string | null,
  mark: CpuMark,
): Interaction {
  const d: DropState | null = r.drop;
  const since = (at: number | null | undefined) =>
    d && d.dropAt !== null && at !== null && at !== undefined ? round1(at - d.dropAt) : null;
  return {
    name,
    what,
    cardBodyRenders: r.counts.CardBody,
    cardBodyCards: r.counts.CardBodyCards,
    sortableCardRenders: r.counts.SortableCard,
    sortableCardCards: r.counts.SortableCardCards,
    commits: r.counts.commits,
    counts: { ...r.counts, walkMs: round1(r.counts.walkMs) },
    dropToVisibleMs: since(d?.visibleAt),
    dropToSettledMs: since(d?.settledAt),
    inTargetAtDrop: d?.inTargetAtDrop ?? null,
    longTasks: {
      count: r.longTasks.length,
      totalMs: round1(r.longTasks.reduce((a, t) => a + t.duration, 0)),
      maxMs: round1(Math.max(0, ...r.longTasks.map((t) => t.duration))),
    },
    frames: summarize(r.frames),
    framesOver50ms: r.frames.filter((f) => f > 50).length,
    durationMs: round1(r.durationMs),
    landedIn,
    serverStatus,
    cpu: cpuSince(mark),
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function table(head: string[], rows: (string | number | null)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

// ---------- the run ----------
/** The web app's COLUMN_PAGE: how many cards a column renders before "Show more". */
function columnPage(): number {
  const file = join(ROOT, 'frontend/board/limits.ts');
  const m = /export const COLUMN_PAGE = (\d+);/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no "export const COLUMN_PAGE = <n>;" in ${file}`);
  return Number(m[1]);
}

async function main() {
  if (!existsSync(join(ROOT, 'shared/dist/index.js'))) {
    throw new Error(
      'shared/dist is missing: the backend imports the built @collabflow/shared. Run `npm run build -w @collabflow/shared` once.',
    );
  }
  assertBuilt(ROOT);
  const startedAt = new Date();
  const runMark = cpuMark();
  log(`CollabFlow web benchmark: a board with ${CARDS} cards, ${cpus().length} CPU cores`);

  // ---------- processes ----------
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-bench-web-'));
  started.dir = dir;
  const db = await startDatabase({ dataDir: dir });
  started.services.push(...db.services);
  log(`PostgreSQL ${db.postgres.version} pid ${db.postgres.pid} on 127.0.0.1:${db.postgres.port}`);
  log(`FerretDB (PostgreSQL handler) pid ${db.ferretdb.pid} on 127.0.0.1:${db.ferretdb.port}`);
  const redis = await startRedis({ dataDir: join(dir, 'redis') });
  started.services.push(redis);
  log(`redis-server pid ${redis.pid} on 127.0.0.1:${redis.port}`);

  // The origin is known before the replica starts, so it can be in CORS_ORIGINS.
  const nginxPort = await freePort();
  const origin = `http://127.0.0.1:${nginxPort}`;
  const lots = '1000000';
  const replica = await startReplica({
    name: 'web-bench',
    root: ROOT,
    logDir: dir,
    env: {
      NODE_ENV: 'development',
      MONGODB_URI: `${db.url}collabflow_bench_web`,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      PASSWORD_HASH_COST: '10',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      CORS_ORIGINS: `${origin},http://localhost:${nginxPort}`,
      RATE_LIMIT_SOCKET_MUTATIONS: lots,
      RATE_LIMIT_SOCKET_CHAT: lots,
      RATE_LIMIT_SOCKET_TYPING: lots,
      RATE_LIMIT_API_POINTS: lots,
      RATE_LIMIT_LOGIN_PER_IP: lots,
      RATE_LIMIT_LOGIN_PER_EMAIL: lots,
      // Many sockets from one address (and per user): the connection limits are not measured.
      RATE_LIMIT_SOCKET_HANDSHAKES: lots,
      MAX_SOCKETS_PER_USER: lots,
      MAX_SSE_PER_USER: lots,
    },
  });
  started.replica = replica;
  log(`replica pid ${replica.pid} ready on ${replica.url}`);

  log('starting the web app (next start of frontend/.next)');
  const web = await startWebApp(ROOT);
  started.web = web;
  log(`web app pid ${web.proc.pid} on ${web.url}`);
  const nginx = await startNginx({
    dir: join(dir, 'nginx'),
    port: nginxPort,
    apiPort: replica.port,
    webPort: web.port,
  });
  started.nginx = nginx;
  log(`nginx pid ${nginx.pid} on ${origin} (API -> replica, pages -> web app)`);

  // ---------- user, project, cards ----------
  const setupStart = performance.now();
  const run = randomBytes(3).toString('hex');
  const email = `web-bench-${run}@bench.collabflow.test`;
  const { token } = await request<{ token: string }>(replica.url, 'POST', '/api/auth/register', {
    body: { email, password: PASSWORD, name: 'Web Bench' },
  });
  const { project } = await request<{ project: { id: string } }>(
    replica.url,
    'POST',
    '/api/projects',
    { token, body: { name: `Board of ${CARDS} cards`, description: 'npm run bench:web' } },
  );
  let created = 0;
  let createRetries = 0;
  const width = String(CARDS).length;
  let lastProgress = performance.now();
  await mapLimit(
    Array.from({ length: CARDS }, (_, i) => i),
    SETUP_CONCURRENCY,
    async (i) => {
      const body = {
        title: `Card ${String(i + 1).padStart(width, '0')}`,
        status: STATUSES[i % STATUSES.length],
        priority: PRIORITIES[i % PRIORITIES.length],
        ...(i % 3 === 0 ? { labels: ['bench'] } : {}),
      };
      // Concurrent creates in one column race for its end position; the server retries the
      // losers a few times and then answers 409 conflict. Ask again after a pause (counted).
      for (let attempt = 1; ; attempt++) {
        try {
          await request(replica.url, 'POST', `/api/projects/${project.id}/tasks`, { token, body });
          break;
        } catch (err) {
          if (!(err instanceof HttpError && err.status === 409) || attempt >= CREATE_ATTEMPTS)
            throw err;
          createRetries++;
          await sleep(50 + Math.random() * 200 * attempt);
        }
      }
      created++;
      if (created % 50 === 0 || created === CARDS || performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        log(`created ${created}/${CARDS} cards (${createRetries} retried after 409 conflict)`);
      }
    },
  );
  const setupMs = performance.now() - setupStart;
  log(
    `set up a user, project ${project.id} and ${CARDS} cards in ${(setupMs / 1000).toFixed(1)} s`,
  );

  // ---------- browser ----------
  const user = await openUser(origin);
  started.browser = user;
  // Card i is in column i mod 4; each column renders its first COLUMN_PAGE cards until "Show
  // more" (frontend/board/limits.ts: a browser module, read here rather than imported).
  const perColumn = [0, 1, 2, 3].map((c) => Math.floor(CARDS / 4) + (c < CARDS % 4 ? 1 : 0));
  const RENDERED = perColumn.reduce((sum, n) => sum + Math.min(n, columnPage()), 0);
  await user.context.addInitScript({ content: benchInitScript(RENDERED) });
  const { page } = user;
  log(`chromium started; logging in through the form at ${origin}/login`);
  await login(page, email, PASSWORD);

  // Open the board with an empty HTTP cache, so "JS transferred" is the whole board page.
  const cdp = await user.context.newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  const boardUrl = `${origin}/projects/${project.id}`;
  log(`opening ${boardUrl} (HTTP cache cleared)`);
  const loadMark = cpuMark();
  const navStart = performance.now();
  await page.goto(boardUrl);
  await page.waitForFunction(
    'window.__bench && window.__bench.snapshot().load.firstCardMs !== null',
    null,
    {
      timeout: 60_000,
      polling: 50,
    },
  );
  const firstCardWallMs = performance.now() - navStart;
  await page.waitForFunction('window.__bench.snapshot().load.allCardsMs !== null', null, {
    timeout: 90_000,
    polling: 100,
  });
  const allCardsWallMs = performance.now() - navStart;
  const loadCpu = cpuSince(loadMark);
  await sleep(1000); // let the socket join and presence settle
  const load = await snapshot(page);
  log(
    `board loaded: first card ${round1(load.load.firstCardMs ?? NaN)} ms, all ${RENDERED} rendered cards ` +
      `${round1(load.load.allCardsMs ?? NaN)} ms after navigation start; ` +
      `JS ${kib(load.resources.jsTransferBytes)} KiB transferred in ${load.resources.jsFiles} files`,
  );
  log(
    `render hook: react-dom injected ${load.hook.injected}x (${load.hook.rendererVersions.join(', ')}), ` +
      `${load.counts.commits} commits, CardBody rendered ${load.counts.CardBody}x ` +
      `(${load.counts.CardBodyCards} different cards) and SortableCard ${load.counts.SortableCard}x ` +
      `(${load.counts.SortableCardCards}) during the load (expected about ${RENDERED} CardBody renders: ` +
      `${CARDS} cards, ${RENDERED} rendered before "Show more")`,
  );
  if (load.hook.errors > 0)
    log(`render hook errors: ${load.hook.errors}, last: ${load.hook.lastError}`);
  if (load.counts.CardBody === 0) {
    throw new Error(
      `the render hook counted no CardBody renders (hook state ${JSON.stringify(load.hook)}, ` +
        `${load.counts.commits} commits): ` +
        (load.hook.injected === 0
          ? 'react-dom never called hook.inject, so it never reports commits'
          : 'commits are reported but no fiber is named CardBody (did Card.tsx lose its displayName?)'),
    );
  }

  const interactions: Interaction[] = [];
  const serverStatus = async (id: string) =>
    (await request<{ task: { status: string } }>(replica.url, 'GET', `/api/tasks/${id}`, { token }))
      .task.status;

  // ---------- idle ----------
  const idleMark = cpuMark();
  await page.evaluate(`window.__bench.begin('idle')`);
  await sleep(2000);
  const idle = await endPhase(page);
  interactions.push(interaction('idle 2 s', 'nothing happens', idle, null, null, idleMark));
  log(`[idle] ${idle.counts.CardBody} CardBody renders, ${idle.counts.commits} commits in 2 s`);

  // ---------- (a) keyboard drag: To do -> Review ----------
  {
    const [card] = await cardsIn(page, 'todo', 1);
    if (!card) throw new Error('the To do column is empty');
    log(`[keyboard] moving "${card.title}" from To do to Review: Space, ArrowRight x2, Space`);
    const handle = page
      .locator(`li[data-task-id=${js(card.id)}]`)
      .getByRole('button', { name: `Move card: ${card.title}`, exact: true });
    await handle.focus();
    const mark = cpuMark();
    await page.evaluate(`window.__bench.begin('keyboard')`);
    const steps: NonNullable<Interaction['steps']> = [];
    let before: RenderCounts = (await snapshot(page)).counts;
    const step = async (name: string) => {
      const now = (await snapshot(page)).counts;
      steps.push({
        step: name,
        CardBody: now.CardBody - before.CardBody,
        SortableCard: now.SortableCard - before.SortableCard,
        commits: now.commits - before.commits,
      });
      before = now;
    };
    await page.keyboard.press('Space');
    await sleep(150);
    await step('Space (pick up)');
    await page.keyboard.press('ArrowRight');
    await sleep(150); // the column measures its new card before the next key
    await step('ArrowRight (to In progress)');
    await page.keyboard.press('ArrowRight');
    await sleep(150);
    await step('ArrowRight (to Review)');
    await page.evaluate(`window.__bench.arm(${js(card.id)}, 'review', 'key')`);
    await page.keyboard.press('Space');
    await page.waitForFunction('window.__bench.dropDone()', null, { timeout: 20_000 });
    await sleep(TRAIL_MS);
    const r = await endPhase(page);
    const it = interaction(
      'keyboard drag',
      `"${card.title}" To do -> Review`,
      r,
      await statusInDom(page, card.id),
      await serverStatus(card.id),
      mark,
    );
    const total = r.counts;
    const sum = (k: 'CardBody' | 'SortableCard' | 'commits') => steps.reduce((a, x) => a + x[k], 0);
    steps.push({
      step: 'Space (drop) and the answer',
      CardBody: total.CardBody - sum('CardBody'),
      SortableCard: total.SortableCard - sum('SortableCard'),
      commits: total.commits - sum('commits'),
    });
    it.steps = steps;
    interactions.push(it);
    log(
      `[keyboard] CardBody ${it.cardBodyRenders} (of ${it.cardBodyCards} cards), SortableCard ${it.sortableCardRenders} (of ${it.sortableCardCards}), ` +
        `commits ${it.commits}; drop -> settled ${it.dropToSettledMs} ms; landed in ${it.landedIn} (server: ${it.serverStatus})`,
    );
  }

  // ---------- (b) mouse drag: In progress -> Done ----------
  {
    const [card] = await cardsIn(page, 'in-progress', 1);
    if (!card) throw new Error('the In progress column is empty');
    log(`[mouse] dragging "${card.title}" from In progress to Done`);
    const handle = page
      .locator(`li[data-task-id=${js(card.id)}]`)
      .getByRole('button', { name: `Move card: ${card.title}`, exact: true });
    await handle.scrollIntoViewIfNeeded();
    const from = await handle.boundingBox();
    const target = await page.locator('section[data-status="done"] ul').boundingBox();
    const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
    if (!from || !target) throw new Error('cannot see the card handle or the Done column');
    const tx = target.x + target.width / 2;
    const ty = Math.min(target.y + target.height / 2, viewport.height - 40);
    const fx = from.x + from.width / 2;
    const fy = from.y + from.height / 2;
    const mark = cpuMark();
    await page.evaluate(`window.__bench.begin('mouse')`);
    await page.mouse.move(fx, fy);
    await page.mouse.down();
    await page.mouse.move(fx + 20, fy + 20, { steps: 5 });
    await page.mouse.move(tx, ty, { steps: 30 });
    await sleep(100);
    await page.evaluate(`window.__bench.arm(${js(card.id)}, 'done', 'mouse')`);
    await page.mouse.up();
    await page.waitForFunction('window.__bench.dropDone()', null, { timeout: 20_000 });
    await sleep(TRAIL_MS);
    const r = await endPhase(page);
    const it = interaction(
      'mouse drag',
      `"${card.title}" In progress -> Done`,
      r,
      await statusInDom(page, card.id),
      await serverStatus(card.id),
      mark,
    );
    interactions.push(it);
    log(
      `[mouse] CardBody ${it.cardBodyRenders} (of ${it.cardBodyCards} cards), SortableCard ${it.sortableCardRenders} (of ${it.sortableCardCards}), ` +
        `commits ${it.commits}; drop -> settled ${it.dropToSettledMs} ms; landed in ${it.landedIn} (server: ${it.serverStatus})`,
    );
  }

  // ---------- (c) remote move over REST: To do -> In progress ----------
  {
    const [card] = await cardsIn(page, 'todo', 1);
    if (!card) throw new Error('the To do column is empty');
    log(`[remote] another client moves "${card.title}" from To do to In progress over REST`);
    const mark = cpuMark();
    await page.evaluate(`window.__bench.begin('remote')`);
    await page.evaluate(`window.__bench.arm(${js(card.id)}, 'in-progress', 'now')`);
    const restStart = performance.now();
    await request(replica.url, 'POST', `/api/tasks/${card.id}/move`, {
      token,
      // To the top of the column, where the page shows it ("Show more" hides a long column's end).
      body: { status: 'in-progress', index: 0 },
      expect: 200,
    });
    const restMoveMs = round1(performance.now() - restStart);
    await page.waitForFunction('window.__bench.dropDone()', null, { timeout: 20_000 });
    await sleep(TRAIL_MS);
    const r = await endPhase(page);
    const it = interaction(
      'remote move',
      `"${card.title}" To do -> In progress, POST /api/tasks/:id/move`,
      r,
      await statusInDom(page, card.id),
      await serverStatus(card.id),
      mark,
    );
    it.restMoveMs = restMoveMs;
    interactions.push(it);
    log(
      `[remote] CardBody ${it.cardBodyRenders} (of ${it.cardBodyCards} cards), SortableCard ${it.sortableCardRenders} (of ${it.sortableCardCards}), ` +
        `commits ${it.commits}; REST call -> card shown ${it.dropToVisibleMs} ms (REST answer ${restMoveMs} ms)`,
    );
  }

  const problems = pageProblems(page);
  const runCpu = cpuSince(runMark);

  log('stopping chromium, nginx, the web app, the replica, Redis, FerretDB and PostgreSQL');
  const replicaProblems = replica.problems.slice(0, 20);
  await teardown();

  // ---------- report ----------
  const wallSeconds = round1((performance.now() - t0) / 1000);
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds,
    command: `npm run bench:web -- --cards ${CARDS}`,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMiB: Math.round(totalmem() / 1024 / 1024),
      kernel: release(),
      node: process.version,
      loadAvg1mAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      /**
       * CPU seconds from start to the last measurement: this run's process tree (servers,
       * chromium, this process) and everything else on the machine.
       */
      cpuSeconds: runCpu,
    },
    options: { cards: CARDS },
    setup: { setupMs: Math.round(setupMs), concurrency: SETUP_CONCURRENCY, createRetries },
    load: {
      firstCardMs: load.load.firstCardMs === null ? null : round1(load.load.firstCardMs),
      allCardsMs: load.load.allCardsMs === null ? null : round1(load.load.allCardsMs),
      firstCardWallMs: round1(firstCardWallMs),
      allCardsWallMs: round1(allCardsWallMs),
      resources: load.resources,
      domElements: load.domElements,
      cardsInDom: load.cardsInDom,
      usedJSHeapMiB:
        load.usedJSHeapBytes === null ? null : round1(load.usedJSHeapBytes / 1024 / 1024),
      renders: { ...load.counts, walkMs: round1(load.counts.walkMs) },
      cpu: loadCpu,
      hook: load.hook,
    },
    interactions,
    problems: { page: problems, replicaLogWarnOrWorse: replicaProblems },
  };

  const out: string[] = [''];
  out.push(`Board load (${CARDS} cards, HTTP cache empty; ms since navigation start)`);
  out.push(
    table(
      ['measure', 'value'],
      [
        ['HTML response end', round1(load.resources.responseEndMs ?? NaN)],
        ['DOMContentLoaded', round1(load.resources.domContentLoadedMs ?? NaN)],
        ['first card visible', result.load.firstCardMs],
        [`all ${result.load.cardsInDom} rendered cards in the DOM`, result.load.allCardsMs],
        ['JS files', load.resources.jsFiles],
        ['JS transferred, KiB', kib(load.resources.jsTransferBytes)],
        ['JS decoded, KiB', kib(load.resources.jsDecodedBytes)],
        ['DOM elements', load.domElements],
        ['JS heap used, MiB', result.load.usedJSHeapMiB],
        ['commits during load', load.counts.commits],
        ['CardBody renders during load', load.counts.CardBody],
        ['SortableCard renders during load', load.counts.SortableCard],
        ['CPU s, this run / others', `${loadCpu.ours} / ${loadCpu.others}`],
      ],
    ),
  );
  out.push('');
  out.push(
    'Interactions (renders counted from the start of the interaction to 0.4 s after it settled)',
  );
  out.push(
    table(
      [
        'interaction',
        'CardBody (cards)',
        'SortableCard (cards)',
        'commits',
        'drop->shown',
        'drop->settled',
        'long tasks',
        'long ms',
        'frame p50',
        'p95',
        'max',
        '>50ms',
        'CPU ours/others',
        'landed',
      ],
      interactions.map((i) => [
        i.name,
        `${i.cardBodyRenders} (${i.cardBodyCards})`,
        `${i.sortableCardRenders} (${i.sortableCardCards})`,
        i.commits,
        i.dropToVisibleMs,
        i.dropToSettledMs,
        i.longTasks.count,
        i.longTasks.totalMs,
        i.frames ? round1(i.frames.p50) : null,
        i.frames ? round1(i.frames.p95) : null,
        i.frames ? round1(i.frames.max) : null,
        i.framesOver50ms,
        `${i.cpu.ours}/${i.cpu.others}`,
        i.landedIn ? `${i.landedIn}/${i.serverStatus}` : null,
      ]),
    ),
  );
  out.push('');
  out.push(
    `machine: ${result.machine.cpus} cores, load 1m ${result.machine.loadAvg1mAtEnd} at the end; ` +
      `CPU s during the run: ${runCpu.ours} this run, ${runCpu.others} other processes`,
  );
  const kb = interactions.find((i) => i.steps);
  if (kb?.steps) {
    out.push('');
    out.push('Keyboard drag, step by step');
    out.push(
      table(
        ['key', 'CardBody', 'SortableCard', 'commits'],
        kb.steps.map((x) => [x.step, x.CardBody, x.SortableCard, x.commits]),
      ),
    );
  }
  const notes: string[] = [];
  for (const i of interactions) {
    if (i.cpu.others !== null && i.cpu.ours !== null && i.cpu.others > (0.25 * i.durationMs) / 1000)
      notes.push(
        `${i.name}: other processes used ${i.cpu.others} CPU s during it (this run: ${i.cpu.ours}); its timings are disturbed`,
      );
    if (i.name !== 'idle 2 s' && i.landedIn !== i.serverStatus)
      notes.push(`${i.name}: the page shows ${i.landedIn}, the server says ${i.serverStatus}`);
  }
  if (problems.length) notes.push(`page errors: ${problems.slice(0, 5).join(' | ')}`);
  if (replica.problemCount() > 0)
    notes.push(`replica: ${replica.problemCount()} log lines at warn or above`);
  if (load.hook.errors > 0) notes.push(`render hook errors: ${load.hook.lastError}`);
  out.push(notes.length ? `Anything unusual:\n${notes.join('\n')}` : 'Nothing unusual.');
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);

  const outDir = join(ROOT, '.collabflow/bench');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `web-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${relative(ROOT, file)} (wall time ${wallSeconds} s)`);
}

function kib(bytes: number): number {
  return round1(bytes / 1024);
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const p of started.replica?.problems.slice(0, 10) ?? [])
      log(`  replica: ${JSON.stringify(p).slice(0, 400)}`);
    abort('benchmark failed', 1);
  },
);
