/**
 * MongoDB going away and coming back: the replica reports 503 while it is gone and recovers by
 * itself when it returns, without crashing. Uses a database of its own (PostgreSQL + FerretDB),
 * whose FerretDB is stopped and restarted on the same port, so the shared one used by the other
 * test files is never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startDatabase,
  startFerretDB,
  type Database,
  type ManagedService,
} from '../../scripts/lib/services.js';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

async function pollReadyz(
  api: ReturnType<typeof client>,
  until: (r: { status: number; body: any }) => boolean,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: any } | undefined;
  while (Date.now() < deadline) {
    last = await api.get('/readyz');
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`readyz did not change within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

describe('readyz follows MongoDB going down and coming back', () => {
  let dir: string;
  let db: Database | undefined;
  let ferret: ManagedService | undefined;
  let t: TestApi | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collabflow-readyz-'));
    db = await startDatabase({ dataDir: dir });
    ferret = db.ferretdb;
    t = await startApi({ MONGODB_URI: `${ferret.url}readyz_fault` });
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await t?.close();
    await ferret?.stop();
    await db?.postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('200 up → 503 down after FerretDB stops → 200 up after it restarts on the same port', async () => {
    const api = client(t!.url);
    const user = await registerUser(api, 'Before');
    const up = await api.get('/readyz');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok', mongo: 'up' });

    const port = ferret!.port;
    await ferret!.stop();
    const down = await pollReadyz(api, (r) => r.status === 503, 10_000);
    expect(down.body).toMatchObject({ status: 'unavailable', mongo: 'down' });
    // Liveness is not readiness: the process is alive and says so.
    expect((await api.get('/healthz')).status).toBe(200);
    // A request that needs the database fails cleanly (after the driver's server selection
    // timeout) with 503 unavailable instead of hanging or crashing.
    const during = await api.get('/api/projects', user.token);
    expect(during.status).toBe(503);
    expect(during.body.error.code).toBe('unavailable');

    ferret = await startFerretDB({
      dataDir: join(dir, 'ferretdb'),
      port,
      postgresqlUrl: db!.postgres.url,
    });
    const back = await pollReadyz(api, (r) => r.status === 200, 30_000);
    expect(back.body).toMatchObject({ status: 'ok', mongo: 'up' });

    // The same server process serves requests again, with the data that was written before.
    const me = await api.get('/api/auth/me', user.token);
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.user.id);
    const p = await api.post('/api/projects', { name: 'After' }, user.token);
    expect(p.status).toBe(201);
    expect(t!.server.httpServer.listening).toBe(true);
    expect(uncaught).toEqual([]);
  }, 60_000);
});
