/**
 * Starts one real Redis and one real FerretDB (PostgreSQL handler, on a PostgreSQL cluster of the
 * run's own in the temporary directory) for the whole run, unless REDIS_URL / MONGODB_URI point at
 * running servers, and stops exactly those processes afterwards. Each test file uses its own
 * database on the shared FerretDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { TestProject } from 'vitest/node';
import {
  startDatabase,
  startRedis,
  type Database,
  type ManagedService,
} from '../../scripts/lib/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
    redisUrl: string;
    servicesDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-test-'));
  const started: ManagedService[] = [];
  let db: Database | undefined;
  let mongoUrl = process.env.MONGODB_URI;
  let redisUrl = process.env.REDIS_URL;
  if (!mongoUrl) {
    db = await startDatabase({ dataDir: dir });
    mongoUrl = db.url;
    const { postgres: pg, ferretdb: f } = db;
    console.log(
      `[services] FerretDB v1.24.2 (postgresql handler) pid ${f.pid} on 127.0.0.1:${f.port}, ` +
        `PostgreSQL ${pg.version} pid ${pg.pid} on 127.0.0.1:${pg.port}`,
    );
  } else {
    console.log(`[services] using MONGODB_URI from the environment`);
  }
  if (!redisUrl) {
    const r = await startRedis({ dataDir: join(dir, 'redis') }).catch(async (err: unknown) => {
      await db?.stop();
      throw err;
    });
    started.push(r);
    redisUrl = r.url;
    console.log(`[services] redis-server pid ${r.pid} on 127.0.0.1:${r.port}`);
  } else {
    console.log(`[services] using REDIS_URL from the environment`);
  }
  project.provide('mongoUrl', mongoUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('servicesDir', dir);
  return async () => {
    // FerretDB before PostgreSQL (db.stop()), Redis meanwhile.
    await Promise.all([db?.stop(), ...started.map((s) => s.stop())]);
    const all = [...(db?.services ?? []), ...started];
    console.log(
      `[services] stopped ${all.map((s) => `${s.name} (pid ${s.pid})`).join(', ') || 'nothing'}`,
    );
    rmSync(dir, { recursive: true, force: true });
  };
}
