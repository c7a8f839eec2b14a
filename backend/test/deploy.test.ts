/**
 * The deployment files: the nginx snippet shared by docker-compose and the local stack (checked
 * and run with Debian's real nginx in front of small HTTP servers standing in for two replicas
 * and the web app), .env.example and docs/configuration.md against the configuration schema,
 * and the compose file and Dockerfiles.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, EXAMPLE_JWT_SECRET, loadConfig } from '../src/config.js';
import {
  NGINX_TEMPLATE_PATH,
  nginxArgs,
  nginxBinary,
  renderNginxConf,
  renderNginxSnippet,
} from '../../scripts/lib/nginx.js';
import { freePort, reservePort } from '../../scripts/lib/services.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** KEY=VALUE lines of a dotenv file, in order; comments and blank lines skipped. */
function parseEnvFile(text: string): [string, string][] {
  const entries: [string, string][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not a KEY=VALUE line: ${line}`);
    entries.push([m[1]!, m[2]!]);
  }
  return entries;
}

/** The schema's optional variables: absent from a config built from an empty environment. */
const OPTIONAL_KEYS = ['INSTANCE_ID', 'REDIS_URL', 'REDIS_TLS_CA_FILE'];

describe('nginx configuration (deploy/nginx/collabflow.conf)', () => {
  const template = readFileSync(NGINX_TEMPLATE_PATH, 'utf8');
  const active = template
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');

  /** The body of the one `upstream <name>` block. */
  const upstreamBody = (name: string) =>
    new RegExp(`upstream\\s+${name}\\s*\\{([^{}]*)\\}`).exec(active)?.[1] ?? '';
  const servers = (body: string) => [...body.matchAll(/^\s*server\s+(\S+);/gm)].map((m) => m[1]);

  it('balances the compose replicas with ip_hash, keep-alive and one listen line', () => {
    const upstreams = [...active.matchAll(/upstream\s+(\S+)\s*\{([^{}]*)\}/g)];
    expect(upstreams.map((u) => u[1])).toEqual(['collabflow_api', 'collabflow_web']);
    const body = upstreamBody('collabflow_api');
    expect(body).toMatch(/^\s*ip_hash;/m);
    expect(servers(body)).toEqual(['backend-1:4000', 'backend-2:4000']);
    // nginx requires the balancing method before keepalive.
    expect(body.indexOf('keepalive')).toBeGreaterThan(body.indexOf('ip_hash'));
    expect(active.match(/^\s*listen\s+[^;]+;/gm)).toEqual(['    listen 8080;']);
    expect(active).toMatch(/client_max_body_size 1m;/);
  });

  it('sends pages to the web app and the API, Socket.IO and health endpoints to the replicas', () => {
    const web = upstreamBody('collabflow_web');
    expect(servers(web)).toEqual(['web:3000']);
    expect(web).toMatch(/^\s*keepalive \d+;/m);
    expect(web).not.toMatch(/ip_hash/);
    const locations = new Map(
      [...active.matchAll(/^\s*location\s+([^{]+?)\s*\{([^}]*)\}/gm)].map((m) => [
        m[1]!,
        /proxy_pass http:\/\/(\w+);/.exec(m[2]!)?.[1],
      ]),
    );
    expect(Object.fromEntries(locations)).toEqual({
      '/socket.io/': 'collabflow_api',
      '~ ^/api/projects/[^/]+/events$': 'collabflow_api',
      '= /metrics': 'collabflow_api',
      '/api/': 'collabflow_api',
      '= /healthz': 'collabflow_api',
      '= /readyz': 'collabflow_api',
      '/': 'collabflow_web',
    });
    // Next.js needs the host with its port (redirects, Server Actions' origin check).
    const pages = /location \/ \{([^}]*)\}/.exec(active)?.[1] ?? '';
    expect(pages).toMatch(/proxy_set_header Host \$http_host;/);
    expect(pages).toMatch(/proxy_set_header X-Forwarded-Host \$http_host;/);
    expect(pages).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(pages).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    expect(pages).toMatch(/proxy_http_version 1\.1;/);
  });

  it('upgrades websockets on /socket.io/ and streams SSE unbuffered', () => {
    expect(active).toMatch(/map \$http_upgrade \$connection_upgrade \{[^}]*default upgrade;/);
    const socketIo = /location \/socket\.io\/ \{([^}]*)\}/.exec(active)?.[1] ?? '';
    expect(socketIo).toMatch(/proxy_http_version 1\.1;/);
    expect(socketIo).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(socketIo).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(socketIo).toMatch(/proxy_buffering off;/);
    const readTimeout = /proxy_read_timeout (\d+)s;/.exec(socketIo)?.[1];
    expect(Number(readTimeout)).toBeGreaterThanOrEqual(75);
    const sse = /location ~ \^\/api\/projects\/\[\^\/\]\+\/events\$ \{([^}]*)\}/.exec(active)?.[1];
    expect(sse).toMatch(/proxy_buffering off;/);
  });

  it('refuses to render a template that drifted from what the stack script replaces', () => {
    const ok = { api: ['a:1'], web: ['w:1'] };
    const render = (t: string, upstreams = ok) => renderNginxSnippet(t, upstreams, '127.0.0.1:1');
    expect(() => render(template, { api: [], web: ['w:1'] })).toThrow(
      /at least one collabflow_api/,
    );
    expect(() => render(template, { api: ['a:1'], web: [] })).toThrow(
      /at least one collabflow_web/,
    );
    expect(() => render(template, { api: ['127.0.0.1'], web: ['w:1'] })).toThrow(/host:port/);
    expect(() => render(template, { api: ['a:1'], web: ['w'] })).toThrow(/host:port/);
    expect(() => render(template.replace('listen 8080;', 'listen 80;'))).toThrow(/listen 8080/);
    expect(() =>
      render(template.replace('listen 8080;', 'listen 8080;\n    listen 8080;')),
    ).toThrow(/exactly one "listen 8080;", found 2/);
    for (const name of ['collabflow_api', 'collabflow_web']) {
      expect(() => render(template.replace(`upstream ${name} {`, 'upstream other {'))).toThrow(
        new RegExp(`exactly one "upstream ${name}" block, found 0`),
      );
      const block = new RegExp(`upstream ${name} \\{[^{}]*\\}`).exec(template)![0];
      expect(() => render(`${template}\n${block}\n`)).toThrow(
        new RegExp(`exactly one "upstream ${name}" block, found 2`),
      );
      const serverless = block.replace(/^\s*server .*\n/gm, '');
      expect(() => render(template.replace(block, serverless))).toThrow(
        new RegExp(`"upstream ${name}" block has no "server" lines`),
      );
    }
    const out = renderNginxSnippet(
      template,
      { api: ['127.0.0.1:4001', '[::1]:4002'], web: ['127.0.0.1:3999'] },
      '127.0.0.1:9999',
    );
    expect(out).toMatch(
      /upstream collabflow_api \{[^{}]*\n\s*server 127\.0\.0\.1:4001;\n\s*server \[::1\]:4002;\n/,
    );
    expect(out).toMatch(/upstream collabflow_web \{[^{}]*\n\s*server 127\.0\.0\.1:3999;\n/);
    expect(out).not.toMatch(/backend-\d:4000;/);
    expect(out).not.toMatch(/web:3000;/);
    expect(out).toMatch(/^\s*listen 127\.0\.0\.1:9999;/m);
    // Only those lines change.
    const strip = (s: string) =>
      s
        .split('\n')
        .filter((l) => !/^\s*(server \S+:\d+|listen \S+);/.test(l))
        .join('\n');
    expect(strip(out)).toBe(strip(template));
  });

  it('renders a full nginx.conf that nginx -t accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'collabflow-nginx-t-'));
    try {
      const conf = renderNginxConf({
        upstreams: [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`],
        webUpstreams: [`127.0.0.1:${await freePort()}`],
        listenPort: await freePort(),
        workDir: dir,
      });
      for (const d of ['pid', 'error_log', 'client_body_temp_path', 'proxy_temp_path'])
        expect(conf).toMatch(new RegExp(`^\\s*${d} ${dir}/`, 'm'));
      expect(conf).not.toMatch(/^\s*server (backend-|web:)/m);
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, conf);
      const r = spawnSync(nginxBinary(), nginxArgs(file, dir, true), { encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      expect(r.stderr).toContain('syntax is ok');
      expect(r.stderr).toContain('test is successful');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Seen {
  instance: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyLength: number;
}

/**
 * A plain HTTP server standing in for an API replica, or for the web app (routing only): it
 * reports what nginx sent it.
 */
async function startReplica(
  instance: string,
): Promise<{ address: string; stop: () => Promise<void> }> {
  const upgraded = new Set<Duplex>();
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/events')) {
      // No X-Accel-Buffering header here: streaming must come from the nginx configuration.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`id: 1\ndata: ${instance}\n\n`);
      const timer = setTimeout(() => res.end('id: 2\ndata: done\n\n'), 1500);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    req.on('end', () => {
      const seen: Seen = {
        instance,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyLength,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
  });
  server.on('upgrade', (req, socket) => {
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `X-Instance: ${instance}\r\nX-Seen-Connection: ${req.headers.connection ?? ''}\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
    upgraded.add(socket);
    socket.on('end', () => socket.end());
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const stop = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    for (const socket of upgraded) socket.destroy();
    await closed;
  };
  return { address: `127.0.0.1:${addr.port}`, stop };
}

async function waitForListen(port: number, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${log()}`);
}

describe('nginx in front of two replicas and the web app (real nginx, rendered as the stack script does)', () => {
  const replicas = new Map<string, () => Promise<void>>();
  let stopWeb: (() => Promise<void>) | undefined;
  let dir = '';
  let nginx: ChildProcess | undefined;
  let base = '';
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collabflow-nginx-'));
    const upstreams: string[] = [];
    for (const name of ['replica-a', 'replica-b']) {
      const r = await startReplica(name);
      replicas.set(name, r.stop);
      upstreams.push(r.address);
    }
    const web = await startReplica('web-app');
    stopWeb = web.stop;
    const held = await reservePort();
    port = held.port;
    await held.release();
    const file = join(dir, 'nginx.conf');
    writeFileSync(
      file,
      renderNginxConf({ upstreams, webUpstreams: [web.address], listenPort: port, workDir: dir }),
    );
    let stderr = '';
    nginx = spawn(nginxBinary(), nginxArgs(file, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForListen(port, nginx, () => {
      let errorLog = '';
      try {
        errorLog = readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        /* not written yet */
      }
      return `${stderr}\n${errorLog}`;
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    const child = nginx;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all([...replicas.values(), ...(stopWeb ? [stopWeb] : [])].map((stop) => stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as Seen;
  };

  it('forwards client address, scheme and request id, and keeps upstream connections alive', async () => {
    const seen = await get('/healthz', { 'x-forwarded-for': '203.0.113.9' });
    expect(seen.url).toBe('/healthz');
    // Overwritten, not appended: a client cannot pick the address the login limit counts.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.headers.connection).toBeUndefined();
    const withId = await get('/api/me', { 'x-request-id': 'client-chosen.id_1' });
    expect(withId.headers['x-request-id']).toBe('client-chosen.id_1');
  });

  it('serves pages from the web app and the API from the replicas, on one origin', async () => {
    for (const path of ['/', '/login', '/projects/p1?tab=chat', '/_next/static/chunks/app.js']) {
      const seen = await get(path);
      expect(seen.instance, path).toBe('web-app');
      expect(seen.url).toBe(path);
    }
    for (const path of [
      '/api/projects',
      '/api/openapi.json',
      '/healthz',
      '/readyz',
      '/metrics',
      '/socket.io/?EIO=4&transport=polling',
    ]) {
      expect((await get(path)).instance, path).toMatch(/^replica-/);
    }
    const page = await get('/board', { 'x-forwarded-for': '203.0.113.9' });
    // The browser's host with its port, as Next.js needs for redirects and Server Actions.
    expect(page.headers.host).toBe(`127.0.0.1:${port}`);
    expect(page.headers['x-forwarded-host']).toBe(`127.0.0.1:${port}`);
    expect(page.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(page.headers['x-forwarded-proto']).toBe('http');
    expect(page.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    // HTTP/1.1 with no Connection header: the keep-alive pool is used.
    expect(page.headers.connection).toBeUndefined();
    const posted = await fetch(`${base}/login`, { method: 'POST', body: 'x=1' });
    expect(((await posted.json()) as Seen).instance).toBe('web-app');
  });

  it('sends one client to one replica (ip_hash), as Socket.IO polling needs', async () => {
    const instances = new Set<string>();
    for (let i = 0; i < 8; i++) {
      instances.add((await get(`/socket.io/?EIO=4&transport=polling&t=${i}`)).instance);
      instances.add((await get('/api/workspaces')).instance);
    }
    expect(instances.size).toBe(1);
  });

  it('passes a websocket upgrade through and tunnels its bytes', async () => {
    const sock = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    sock.on('data', (d: Buffer) => received.push(d));
    const text = () => Buffer.concat(received).toString();
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${text()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
      sock.write(
        'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\n' +
          'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      await waitFor(/\r\n\r\n/);
      expect(text()).toMatch(/^HTTP\/1\.1 101 /);
      expect(text()).toMatch(/X-Seen-Connection: upgrade/i);
      sock.write('hello');
      await waitFor(/echo:hello/);
    } finally {
      sock.destroy();
    }
  });

  it('streams server-sent events without buffering', async () => {
    const started = Date.now();
    const res = await fetch(`${base}/api/projects/p1/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    // The replica ends the response after 1.5 s; the first event must not wait for that.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(new TextDecoder().decode(first.value)).toMatch(/^id: 1\ndata: replica-/);
    await reader.cancel();
  });

  it('accepts bodies up to 1m (spooled in its work directory) and refuses larger ones', async () => {
    const post = (size: number) =>
      fetch(`${base}/api/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(size),
      });
    const ok = await post(300_000);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Seen).bodyLength).toBe(300_000);
    const tooBig = await post(1024 * 1024 + 1);
    expect(tooBig.status).toBe(413);
  });

  it('moves the client to the other replica when its replica goes away', async () => {
    const before = (await get('/healthz')).instance;
    await replicas.get(before)!();
    replicas.delete(before);
    const after = (await get('/healthz')).instance;
    expect(after).not.toBe(before);
    expect([...replicas.keys()]).toEqual([after]);
  });
});

describe('.env.example and docs/configuration.md', () => {
  const entries = parseEnvFile(read('.env.example'));
  const example = Object.fromEntries(entries);
  const defaults = loadConfig({});

  it('lists every variable of the configuration schema, each once, and nothing else', () => {
    const keys = entries.map(([k]) => k);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...Object.keys(defaults), ...OPTIONAL_KEYS].sort());
  });

  it('gives each variable its real default and a comment', () => {
    expect(loadConfig(example)).toEqual(defaults);
    expect(example.JWT_SECRET).toBe(EXAMPLE_JWT_SECRET);
    expect(example.REDIS_URL).toBe('');
    const lines = read('.env.example').split('\n');
    for (const [key] of entries) {
      const i = lines.findIndex((l) => l.startsWith(`${key}=`));
      expect(lines[i - 1], `comment above ${key}`).toMatch(/^# \S/);
    }
  });

  /** The `| \`NAME\` | \`default\` | … |` rows of a configuration table, as [name, default]. */
  const configTable = (markdown: string): [string, string][] =>
    markdown
      .split('\n')
      .map((l) => /^\| `([A-Z][A-Z0-9_]*)` \| (`[^`]*`|\*\(empty\)\*) \|/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, key, value]) => [key!, value === '*(empty)*' ? '' : value!.slice(1, -1)]);

  it('cannot be used as is in production', () => {
    expect(() => loadConfig({ ...example, NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...example, NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('matches the table in docs/configuration.md', () => {
    const rows = configTable(read('docs/configuration.md'));
    expect(rows).toEqual(entries);
  });

  it('matches the table in README.md', () => {
    const rows = configTable(read('README.md'));
    expect(rows).toEqual(entries);
  });
});

describe('docker-compose.yml and Dockerfiles', () => {
  const compose = read('docker-compose.yml');
  /** The lines of one top-level service. */
  const service = (name: string) => {
    const m = new RegExp(`^  ${name}:\\n((?:(?: {4}.*)?\\n)*)`, 'm').exec(compose);
    if (!m) throw new Error(`service ${name} not found`);
    return m[1]!;
  };

  it('runs mongo:7, redis:7, nginx with the shared snippet and the web app', () => {
    expect(service('mongo')).toMatch(/image: mongo:7\n/);
    expect(service('mongo')).toMatch(/mongosh/);
    expect(service('redis')).toMatch(/image: redis:7-alpine\n/);
    expect(service('redis')).toMatch(/redis-cli/);
    const nginx = service('nginx');
    expect(nginx).toMatch(/image: nginx:1\.27/);
    expect(nginx).toContain('./deploy/nginx/collabflow.conf:/etc/nginx/conf.d/default.conf');
    expect(nginx).toMatch(/'8080:8080'/);
    expect(service('web')).toContain('dockerfile: frontend/Dockerfile');
    expect(compose).toMatch(/^ {2}mongo-data:/m);
  });

  /** `host` and `port` of each `server` line of one upstream block of the nginx snippet. */
  const upstreamServers = (name: string) => {
    const body =
      new RegExp(`upstream\\s+${name}\\s*\\{([^{}]*)\\}`).exec(
        readFileSync(NGINX_TEMPLATE_PATH, 'utf8'),
      )?.[1] ?? '';
    return [...body.matchAll(/^\s*server\s+([\w-]+):(\d+);/gm)].map((m) => [m[1]!, m[2]!]);
  };

  it('has one backend service per nginx upstream server, each ready-checked', () => {
    const servers = upstreamServers('collabflow_api');
    expect(servers.length).toBeGreaterThanOrEqual(2);
    for (const [host] of servers) {
      const block = service(host!);
      expect(block).toContain('<<: *backend\n');
      expect(block).toContain(`INSTANCE_ID: ${host}\n`);
    }
    expect(compose).toContain('dockerfile: backend/Dockerfile');
    expect(compose).toMatch(/condition: service_healthy/);
    expect(compose).toContain("fetch('http://127.0.0.1:4000/readyz')");
    expect(compose).toContain('JWT_SECRET: ${JWT_SECRET:?');
  });

  it('publishes only nginx, which serves the web app and the API on one origin', () => {
    expect(upstreamServers('collabflow_web')).toEqual([['web', '3000']]);
    const web = service('web');
    expect(web).toMatch(/expose:\n\s+- '3000'\n/);
    expect(web).not.toMatch(/ports:/);
    // nginx resolves the upstream host names when it starts.
    expect(service('nginx')).toMatch(/depends_on:\n(?: {6}.*\n)*? {6}web:\n/);
    expect([...compose.matchAll(/^ {4}ports:\n((?: {6}- .*\n)+)/gm)].map((m) => m[1])).toEqual([
      "      - '8080:8080'\n",
    ]);
    expect(compose).toMatch(/CORS_ORIGINS: \$\{CORS_ORIGINS:-http:\/\/localhost:8080[,}]/);
    // The browser uses relative URLs on nginx's origin; no API address is baked into the image.
    const dockerfile = read('frontend/Dockerfile');
    for (const text of [compose, dockerfile]) expect(text).not.toContain('NEXT_PUBLIC_API_URL');
    expect(dockerfile).toMatch(/^ENV NEXT_OUTPUT=standalone/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(dockerfile).toContain('CMD ["node", "frontend/server.js"]');
  });

  it('starts every backend with a configuration the API accepts in production, without demo data', () => {
    // The environment compose gives a replica: the shared block, then the service's own lines,
    // with ${VAR:?...} taken from a .env that sets only JWT_SECRET and ${VAR:-default} defaulted.
    const envLines = (block: string, indent: number) =>
      [...block.matchAll(new RegExp(`^ {${indent}}([A-Z][A-Z0-9_]*): (.*)$`, 'gm'))].map(
        (m) => [m[1]!, m[2]!] as const,
      );
    const dotenv: Record<string, string> = {
      JWT_SECRET: 'a-production-secret-of-our-own-0123456789',
    };
    const value = (raw: string) =>
      raw
        .replace(/^'(.*)'$/, '$1')
        .replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_m, name: string, def?: string) =>
          name in dotenv ? dotenv[name]! : (def ?? ''),
        );
    const shared = /^x-backend-env: &backend-env\n((?: {2}.*\n)+)/m.exec(compose)?.[1] ?? '';
    for (const [host] of upstreamServers('collabflow_api')) {
      const env: Record<string, string> = {};
      for (const [k, v] of [...envLines(shared, 2), ...envLines(service(host!), 6)])
        env[k] = value(v);
      expect(env.NODE_ENV, host).toBe('production');
      const config = loadConfig(env);
      expect(config.SEED_DEMO, host).toBe(false);
      expect(config.INSTANCE_ID).toBe(host);
    }
    expect(compose).not.toMatch(/SEED_DEMO: '?(true|1|yes)/);
  });

  it('sets only variables the configuration schema knows on the backends', () => {
    const known = new Set([...Object.keys(loadConfig({})), ...OPTIONAL_KEYS]);
    const envBlock = /^x-backend-env: &backend-env\n((?: {2}.*\n)+)/m.exec(compose)?.[1] ?? '';
    const keys = [
      ...envBlock.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm),
      ...service('backend-1').matchAll(/^ {6}([A-Z][A-Z0-9_]*):/gm),
    ].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(8);
    for (const key of keys) expect(known, key).toContain(key);
  });

  it('builds images from every workspace manifest, running as an unprivileged user', () => {
    const pkg = JSON.parse(read('package.json')) as { workspaces: string[] };
    for (const file of ['backend/Dockerfile', 'frontend/Dockerfile']) {
      const text = read(file);
      // npm ci refuses a lockfile whose workspaces' manifests are missing.
      for (const ws of pkg.workspaces)
        expect(text, file).toContain(`COPY ${ws}/package.json ${ws}/`);
      expect(text).toMatch(/^FROM node:20-bookworm-slim|^ARG NODE_IMAGE=node:20-bookworm-slim/m);
      expect(text).toMatch(/^USER node$/m);
    }
    const backend = read('backend/Dockerfile');
    expect(backend).toMatch(/^EXPOSE 4000$/m);
    expect(backend).toMatch(/^HEALTHCHECK /m);
    expect(backend).toContain('CMD ["node", "backend/dist/main.js"]');
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['**/node_modules', '**/dist', '**/.next', '.git', '.env'])
      expect(ignored).toContain(p);
  });
});
