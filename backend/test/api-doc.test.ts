/**
 * docs/api.md is the contract, kept true to the code (issue 8, item 9):
 * - the routes the Express app really answers, `/api/openapi.json` and the REST table of
 *   docs/api.md name the same methods and paths, each once;
 * - the Socket.IO tables of docs/api.md name exactly the events of `ClientToServerEvents` and
 *   `ServerToClientEvents` in `@collabflow/shared` (read with the TypeScript compiler), and the
 *   server answers every documented client event (a real socket gets an ack for each);
 * - README points at docs/api.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';
import { call, connected, socketFor } from './helpers/cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const doc = read('docs/api.md');

/** `:param` and `{param}` written one way, so Express, OpenAPI and the doc compare. */
const normalize = (route: string) => route.replace(/\{(\w+)\}/g, ':$1');

/** `METHOD /path` of every row of the REST table in docs/api.md. */
function documentedRoutes(): string[] {
  return [...doc.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)` \|/gm)].map((m) =>
    normalize(`${m[1]} ${m[2]}`),
  );
}

/** The event names in the first column of the table whose header starts with `title`. */
function documentedEvents(title: string): string[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${title} |`));
  expect(start, `a table headed "${title}" in docs/api.md`).toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const m = /^\| `([\w:]+)` \|/.exec(line);
    expect(m, `a row naming one event: ${line}`).not.toBeNull();
    names.push(m![1]!);
  }
  return names;
}

/** The property names of exported types in shared/src/events.ts, as the compiler sees them. */
function sharedEventNames(typeName: string): string[] {
  const file = join(ROOT, 'shared/src/events.ts');
  // Only this file: the names are keys of its own interfaces and mapped types; the payload types
  // they point at (other files, the standard library) do not matter here.
  const program = ts.createProgram([file], {
    noResolve: true,
    noLib: true,
    types: [],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const symbol = checker
    .getExportsOfModule(checker.getSymbolAtLocation(source)!)
    .find((s) => s.name === typeName);
  expect(symbol, `${typeName} exported by shared/src/events.ts`).toBeDefined();
  return checker
    .getDeclaredTypeOfSymbol(symbol!)
    .getProperties()
    .map((p) => p.name);
}

/** `METHOD /path` of every route registered on the Express app, mounted routers included. */
function appRoutes(app: unknown): string[] {
  interface Layer {
    rawPath?: unknown;
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const routes: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          routes.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle?.stack) {
        const mount =
          typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as { router: { stack: Layer[] } }).router.stack, '');
  return routes;
}

const sorted = (list: string[]) => [...list].sort();

describe('docs/api.md is the contract, true to the code', () => {
  let t: TestApi;
  let openapiRoutes: string[];

  beforeAll(async () => {
    t = await startApi();
    const r = await client(t.url).get('/api/openapi.json');
    expect(r.status).toBe(200);
    openapiRoutes = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => normalize(`${m.toUpperCase()} ${path}`)),
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the REST table lists each route once', () => {
    const documented = documentedRoutes();
    expect(documented.length).toBeGreaterThan(30);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('/api/openapi.json describes exactly the routes the app answers', () => {
    const code = appRoutes(t.server.app);
    expect(new Set(code).size).toBe(code.length);
    expect(sorted(openapiRoutes)).toEqual(sorted(code));
  });

  it('every route of /api/openapi.json is in docs/api.md, and nothing else is', () => {
    expect(sorted(documentedRoutes())).toEqual(sorted(openapiRoutes));
  });

  it('the socket tables name exactly the events of @collabflow/shared', () => {
    const clientEvents = sharedEventNames('ClientToServerEvents');
    const serverEvents = sharedEventNames('ServerToClientEvents');
    expect(clientEvents).toContain('join:project');
    expect(serverEvents).toContain('task:created');
    expect(sorted(documentedEvents('client → server'))).toEqual(sorted(clientEvents));
    expect(sorted(documentedEvents('server → client'))).toEqual(sorted(serverEvents));
  });

  it('the server answers every documented client event (a refusal of a bad payload is an answer)', async () => {
    const u = await registerUser(client(t.url), 'Contract');
    const socket = socketFor(t.url, u.token);
    try {
      await connected(socket);
      for (const event of documentedEvents('client → server')) {
        const ack = await call(socket, event, { nonsense: true }, 5000);
        expect(ack, event).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      }
    } finally {
      socket.disconnect();
    }
  });

  it('README points at docs/api.md, and nothing points outside the repository for the contract', () => {
    const readme = read('README.md');
    expect(readme).toContain('docs/api.md');
    for (const path of ['README.md', 'docs/protocol.md', 'backend/src/ops/openapi.ts'])
      expect(read(path), path).not.toContain('shared/API.md');
  });
});
