/**
 * Debian's chromium driven by playwright-core, one persistent context (own profile directory,
 * own cookies and cache) per simulated person; helpers to log in through the real form, scan a
 * page with axe-core, take screenshots, and collect every page error and console error.
 * Never downloads a browser: chromium comes from `bash scripts/install-services.sh chromium`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { AxeResults, ImpactValue, Result, RunOptions } from 'axe-core';

const E2E_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Screenshots, axe reports and measurements (git-ignored). */
export const ARTIFACTS_DIR = join(E2E_DIR, 'artifacts');

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but loopback resolves: a page can never reach the internet.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

export interface ProblemRecord {
  kind: 'pageerror' | 'console.error';
  text: string;
  /** For console errors: where the message came from (the resource URL for network errors). */
  url?: string;
}

const problemsByPage = new WeakMap<Page, ProblemRecord[]>();
const originByPage = new WeakMap<Page, string>();

function watch(page: Page, origin: string): void {
  if (problemsByPage.has(page)) return;
  const list: ProblemRecord[] = [];
  problemsByPage.set(page, list);
  originByPage.set(page, origin);
  page.on('pageerror', (err) => {
    list.push({ kind: 'pageerror', text: err.stack ?? err.message });
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    list.push({ kind: 'console.error', text: msg.text(), url: msg.location().url || undefined });
  });
}

/**
 * Messages a healthy page may log. A signed-out visit asks POST /api/auth/refresh whether there
 * is a session; the designed answer is 401, which Chromium reports as a failed resource load.
 */
export const EXPECTED_PROBLEMS: readonly RegExp[] = [
  /^console\.error: Failed to load resource: the server responded with a status of 401 \(Unauthorized\) \(http:\/\/[^)]+\/api\/auth\/refresh\)$/,
];

/**
 * Every page error and console error of `page` so far, one readable line each, minus
 * EXPECTED_PROBLEMS and `allow`. Assert `expect(pageProblems(page)).toEqual([])`.
 */
export function pageProblems(page: Page, opts: { allow?: RegExp[] } = {}): string[] {
  const allow = [...EXPECTED_PROBLEMS, ...(opts.allow ?? [])];
  return (problemsByPage.get(page) ?? [])
    .map((p) => `${p.kind}: ${p.text}${p.url ? ` (${p.url})` : ''}`)
    .filter((line) => !allow.some((re) => re.test(line)));
}

/** The raw records, unfiltered. */
export function pageProblemRecords(page: Page): readonly ProblemRecord[] {
  return problemsByPage.get(page) ?? [];
}

export interface BrowserUser {
  /** The origin (nginx A or B) this person uses for pages, /api and /socket.io. */
  readonly origin: string;
  readonly context: BrowserContext;
  /** The context's first tab. */
  readonly page: Page;
  /** Another tab in the same context (same cookies: the same person). */
  newPage(): Promise<Page>;
  /** Opens `path` on this person's origin in `page` (default: the first tab). */
  goto(path: string, page?: Page): Promise<void>;
  close(): Promise<void>;
}

export interface OpenUserOptions {
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
}

const openUsers = new Set<BrowserUser>();

/** Starts one chromium with a fresh profile: one person, cookies and cache of their own. */
export async function openUser(origin: string, opts: OpenUserOptions = {}): Promise<BrowserUser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; install it with \`bash scripts/install-services.sh chromium\` (npm test does).`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'collabflow-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      colorScheme: opts.colorScheme ?? 'light',
      locale: 'en-US',
      timezoneId: 'UTC',
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  context.on('page', (p) => watch(p, origin));
  for (const p of context.pages()) watch(p, origin);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, origin);

  let closed: Promise<void> | undefined;
  const user: BrowserUser = {
    origin,
    context,
    page,
    async newPage() {
      const p = await context.newPage();
      watch(p, origin);
      return p;
    },
    async goto(path, target = page) {
      await target.goto(new URL(path, origin).href);
    },
    close() {
      closed ??= (async () => {
        openUsers.delete(user);
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      })();
      return closed;
    },
  };
  openUsers.add(user);
  return user;
}

/** Closes every context openUser started (and removes the profiles); for afterAll. */
export async function closeAllUsers(): Promise<void> {
  await Promise.all([...openUsers].map((u) => u.close()));
}

/**
 * Logs in through the real form on the page's origin (fields "Email" and "Password", button
 * "Log in") and waits until the app lands on /projects. On failure the message includes what
 * the page said.
 */
export async function login(page: Page, email: string, password: string): Promise<void> {
  const origin = originByPage.get(page) ?? new URL(page.url()).origin;
  await page.goto(`${origin}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  try {
    await page.waitForURL(/\/projects\/?(?:[?#].*)?$/, { timeout: 20_000 });
  } catch (err) {
    const alerts = await page
      .getByRole('alert')
      .allInnerTexts()
      .catch(() => []);
    throw new Error(
      `login as ${email} did not reach /projects (still at ${page.url()}; alerts: ${JSON.stringify(alerts)}; ` +
        `page problems: ${JSON.stringify(pageProblems(page))}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function artifactPath(name: string, ext: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.${ext}`);
}

/** A full-page PNG in frontend/e2e/artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = artifactPath(name, 'png');
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Writes JSON into frontend/e2e/artifacts/<name>.json; returns its path. */
export function writeArtifact(name: string, data: unknown): string {
  const path = artifactPath(name, 'json');
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

let axeSource: string | undefined;
function axeScript(): string {
  if (axeSource === undefined) {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(join(dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');
  }
  return axeSource;
}

const BLOCKING: ImpactValue[] = ['serious', 'critical'];

/** One readable paragraph per violation: impact, rule, what is wrong, and the elements. */
export function formatViolations(violations: readonly Result[], maxNodes = 8): string[] {
  return violations.map((v) => {
    const nodes = v.nodes.slice(0, maxNodes).map((n) => {
      const why = (n.failureSummary ?? '')
        .replace(/\s+/g, ' ')
        .replace(/^Fix (?:any|all) of the following: /, '')
        .trim()
        .slice(0, 400);
      return `    at ${n.target.join(' ')}: ${n.html.replace(/\s+/g, ' ').slice(0, 160)}${why ? ` — ${why}` : ''}`;
    });
    const more = v.nodes.length > maxNodes ? [`    … and ${v.nodes.length - maxNodes} more`] : [];
    return [`[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`, ...nodes, ...more].join('\n');
  });
}

/**
 * Runs axe-core (the npm package's own build, injected into the page) on the page as it is now
 * and returns its serious and critical violations as readable strings, so that
 * `expect(await axeScan(page, 'login')).toEqual([])` names what is wrong when it fails. The full
 * findings of a failing scan go to frontend/e2e/artifacts/axe-<label>.json.
 */
export async function axeScan(
  page: Page,
  label: string,
  options: RunOptions = {},
): Promise<string[]> {
  const present = await page.evaluate<boolean>(
    'typeof window.axe === "object" && typeof window.axe.run === "function"',
  );
  if (!present) await page.addScriptTag({ content: axeScript() });
  const runOptions: RunOptions = { resultTypes: ['violations'], ...options };
  const results = await page.evaluate<AxeResults>(
    `window.axe.run(document, ${JSON.stringify(runOptions)})`,
  );
  const blocking = results.violations.filter((v) => BLOCKING.includes(v.impact ?? null));
  if (blocking.length > 0) {
    writeArtifact(`axe-${label}`, { url: results.url, violations: results.violations });
  }
  return formatViolations(blocking).map((text) => `${label}: ${text}`);
}
