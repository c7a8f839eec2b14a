/**
 * TRUST_PROXY (issue 8, item 7): the setting is parsed into what Express expects (a boolean, a
 * hop count, or a list of addresses, subnets and Express's names), each form is checked through
 * the real app, and the per-IP login limit counts the client's own address behind a real nginx
 * rendered from deploy/nginx/collabflow.conf, whatever X-Forwarded-For the client forges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseTrustProxy } from '../src/config.js';
import { createApp } from '../src/app.js';
import { createMetrics } from '../src/ops/metrics.js';
import { clientAddress, compileTrust } from '../src/core/client-address.js';
import { signAccessToken } from '../src/auth/tokens.js';
import { nginxArgs, nginxBinary, renderNginxConf } from '../../scripts/lib/nginx.js';
import { reservePort } from '../../scripts/lib/services.js';
import { TEST_JWT_SECRET, startApi, testEnv, type TestApi } from './helpers/api.js';

describe('TRUST_PROXY is parsed into what Express expects', () => {
  const cases: [string, unknown][] = [
    ['true', true],
    ['false', false],
    ['1', 1],
    ['0', 0],
    [' 2 ', 2],
    ['loopback', ['loopback']],
    ['uniquelocal', ['uniquelocal']],
    ['loopback, linklocal,uniquelocal', ['loopback', 'linklocal', 'uniquelocal']],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.0/255.255.255.0', ['10.0.0.0/8', '192.168.1.0/255.255.255.0']],
    ['::1, fc00::/7, 127.0.0.1', ['::1', 'fc00::/7', '127.0.0.1']],
  ];
  for (const [text, expected] of cases) {
    it(`TRUST_PROXY=${JSON.stringify(text)} becomes ${JSON.stringify(expected)}`, () => {
      expect(parseTrustProxy(text)).toEqual(expected);
      expect(loadConfig(testEnv({ TRUST_PROXY: text })).TRUST_PROXY).toEqual(expected);
    });
  }

  it('defaults to the loopback list', () => {
    expect(loadConfig({}).TRUST_PROXY).toEqual(['loopback']);
  });

  for (const bad of [
    'yes',
    'True',
    '1.2.3',
    '10.0.0.0/33',
    '::1/129',
    '-1',
    '101',
    'loopback,',
    'a, b',
  ]) {
    it(`refuses TRUST_PROXY=${JSON.stringify(bad)} at start, naming the variable`, () => {
      expect(() => loadConfig(testEnv({ TRUST_PROXY: bad }))).toThrow(ConfigError);
      expect(() => loadConfig(testEnv({ TRUST_PROXY: bad }))).toThrow(/TRUST_PROXY must be/);
    });
  }
});

/** GET with a chosen source address (127.0.0.0/8 is all loopback on Linux) and headers. */
function getFrom(
  url: string,
  opts: { localAddress?: string; headers?: Record<string, string>; method?: string; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.localAddress },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('each TRUST_PROXY form through the real app decides req.ip', () => {
  let t: TestApi;
  const servers: Server[] = [];
  const token = signAccessToken('a'.repeat(24), TEST_JWT_SECRET, 60_000);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await t.close();
  });

  /** The app of app.ts built with this TRUST_PROXY, plus one route that answers req.ip. */
  async function appWith(trust: string): Promise<string> {
    const config = loadConfig(testEnv({ TRUST_PROXY: trust }));
    const probe = Router();
    const trustCheck = compileTrust(config.TRUST_PROXY);
    probe.get('/whoami', (req, res) => {
      res.json({ ip: req.ip, ips: req.ips, outsideExpress: clientAddress(req, trustCheck) });
    });
    const app = createApp(
      { ...t.server.ctx, config },
      {
        metrics: createMetrics(),
        readiness: async () => ({
          status: 'ok' as const,
          mongo: 'up' as const,
          redis: 'disabled' as const,
        }),
        apiRouters: [probe],
      },
    );
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    return `http://127.0.0.1:${addr.port}/api/whoami`;
  }

  async function ipSeen(url: string, xff?: string, localAddress = '127.0.0.5'): Promise<string> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (xff !== undefined) headers['x-forwarded-for'] = xff;
    const r = await getFrom(url, { headers, localAddress });
    expect(r.status, r.body).toBe(200);
    const seen = JSON.parse(r.body) as { ip: string; outsideExpress: string };
    // core/client-address.ts (for the socket handshake) agrees with Express.
    expect(seen.outsideExpress, `X-Forwarded-For ${xff} from ${localAddress}`).toBe(seen.ip);
    return seen.ip;
  }

  it('a hop count of 1 takes the address the one proxy in front saw (the last entry)', async () => {
    const url = await appWith('1');
    expect(await ipSeen(url, '203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen(url, '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen(url)).toBe('127.0.0.5');
  });

  it('a hop count of 2 believes two proxies', async () => {
    const url = await appWith('2');
    expect(await ipSeen(url, '198.51.100.1, 203.0.113.7, 10.0.0.9')).toBe('203.0.113.7');
  });

  it('true believes every proxy (the first address); false believes none', async () => {
    expect(await ipSeen(await appWith('true'), '198.51.100.1, 203.0.113.7')).toBe('198.51.100.1');
    expect(await ipSeen(await appWith('false'), '198.51.100.1, 203.0.113.7')).toBe('127.0.0.5');
  });

  it('an address list believes exactly the listed proxies and subnets', async () => {
    const url = await appWith('127.0.0.5, 10.0.0.0/8');
    // 127.0.0.5 (the peer) and 10.1.2.3 are trusted proxies, 203.0.113.7 is the client.
    expect(await ipSeen(url, '198.51.100.1, 203.0.113.7, 10.1.2.3')).toBe('203.0.113.7');
    // From a peer that is not listed, X-Forwarded-For is ignored.
    expect(await ipSeen(url, '203.0.113.7', '127.0.0.6')).toBe('127.0.0.6');
  });

  it('clientAddress (for requests outside Express) agrees with req.ip for every form, header and peer', async () => {
    const forms = [
      'true',
      'false',
      '0',
      '1',
      '2',
      '3',
      'loopback',
      'uniquelocal',
      'linklocal, loopback',
    ];
    forms.push('127.0.0.5, 10.0.0.0/8', '127.0.0.0/255.255.255.0', '10.1.2.3', '::1, 127.0.0.6');
    const headers = [
      undefined,
      '',
      '203.0.113.7',
      '198.51.100.1, 203.0.113.7',
      '198.51.100.1,10.1.2.3 , 127.0.0.9',
      '10.1.2.3, 192.168.0.4, 127.0.0.1',
      'not-an-address, 10.1.2.3',
      '2001:db8::1, 127.0.0.1',
    ];
    for (const form of forms) {
      const url = await appWith(form);
      for (const xff of headers)
        for (const peer of ['127.0.0.5', '127.0.0.6']) await ipSeen(url, xff, peer);
    }
  });

  it('the names Express knows: loopback believes a local proxy, uniquelocal does not', async () => {
    expect(await ipSeen(await appWith('loopback'), '203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen(await appWith('uniquelocal'), '203.0.113.7')).toBe('127.0.0.5');
  });
});

/** Real nginx (deploy/nginx/collabflow.conf rendered as scripts/stack.ts does) in front of `api`. */
async function startNginx(api: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-trust-'));
  const held = await reservePort();
  const port = held.port;
  await held.release();
  const file = join(dir, 'nginx.conf');
  // Pages are not used here; the web upstream points at the API too.
  writeFileSync(
    file,
    renderNginxConf({ upstreams: [api], webUpstreams: [api], listenPort: port, workDir: dir }),
  );
  const child: ChildProcess = spawn(nginxBinary(), nginxArgs(file, dir), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        /* not written */
      }
      await stop();
      throw new Error(`nginx did not start: ${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

for (const trust of ['1', 'loopback']) {
  describe(`behind a real nginx with TRUST_PROXY=${trust}`, () => {
    let t: TestApi;
    let edge: Awaited<ReturnType<typeof startNginx>>;

    beforeAll(async () => {
      t = await startApi({ TRUST_PROXY: trust, RATE_LIMIT_LOGIN_PER_IP: '3' });
      edge = await startNginx(new URL(t.url).host);
    });
    afterAll(async () => {
      await edge?.stop();
      await t?.close();
    });

    const login = (from: string, forged: string) =>
      getFrom(`${edge.url}/api/auth/login`, {
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forged },
        body: JSON.stringify({
          email: `nobody-${forged}@example.test`,
          password: 'wrong password',
        }),
      });

    it('the per-IP login limit counts the client address nginx saw, not a forged X-Forwarded-For', async () => {
      // One client rotates forged addresses: its own address (127.0.0.2) still runs out.
      for (let i = 1; i <= 3; i++)
        expect((await login('127.0.0.2', `198.51.100.${i}`)).status).toBe(401);
      const limited = await login('127.0.0.2', '198.51.100.4');
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body).error.code).toBe('rate_limited');
      // Another client behind the same nginx has a budget of its own.
      expect((await login('127.0.0.3', '198.51.100.4')).status).toBe(401);
    });
  });
}
