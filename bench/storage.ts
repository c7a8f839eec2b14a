/**
 * FerretDB's two handlers side by side, on the same documents: the figures and the atomicity
 * table of docs/storage.md.
 *
 *   node --import tsx bench/storage.ts [--members 1000] [--seconds 5] [--clients 16]
 *
 * It starts FerretDB 1.24.2 on SQLite and FerretDB 1.24.2 on PostgreSQL (scripts/lib/services.ts,
 * loopback, temporary directories), loads the same `members` collection into each (one project,
 * N members, unique on projectId + userId, as the API has it), and measures one after the other:
 *
 *   - a member lookup (`findOne({ projectId, userId })`, what every authorization check does) and
 *     an `updateOne` with the same filter: latency of one client, one request at a time;
 *   - lookups/s and updates/s with C concurrent clients (one connection each) for S seconds;
 *   - atomicity: concurrent `$inc` (findOneAndUpdate and updateOne), compare-and-set, two
 *     concurrent `$set` of different fields on one document, concurrent inserts under a unique
 *     index, and what an update that breaks a unique index answers.
 *
 * It prints a table and JSON, and stops what it started (by PID). Numbers to read, not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { startDatabase, startFerretDB, type ManagedService } from '../scripts/lib/services.js';

const { MongoClient, ObjectId } = mongoose.mongo;
type Db = mongoose.mongo.Db;

const { values: flags } = parseArgs({
  options: {
    members: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '16' },
    samples: { type: 'string', default: '200' },
  },
});
const MEMBERS = Number(flags.members);
const SECONDS = Number(flags.seconds);
const CLIENTS = Number(flags.clients);
const SAMPLES = Number(flags.samples);

const say = (s: string) => process.stdout.write(`[storage] ${s}\n`);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const ms = (n: number) => Math.round(n * 100) / 100;

interface HandlerResult {
  handler: string;
  lookupMs: { p50: number; p95: number };
  updateMs: { p50: number; p95: number };
  lookupsPerSec: number;
  updatesPerSec: number;
  atomicity: Record<string, string>;
}

async function latency(n: number, op: (i: number) => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: ms(pct(times, 50)), p95: ms(pct(times, 95)) };
}

/** Operations per second of `clients` connections, each with one request in flight. */
async function throughput(url: string, op: (db: Db, i: number) => Promise<unknown>) {
  const conns = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      new MongoClient(url, { maxPoolSize: 1, minPoolSize: 1 }).connect(),
    ),
  );
  const dbs = conns.map((c) => c.db('storage_bench'));
  // One round to warm every connection.
  await Promise.all(dbs.map((db, i) => op(db, i)));
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    dbs.map(async (db, c) => {
      let i = c;
      while (performance.now() < end) {
        await op(db, (i += CLIENTS));
        done++;
      }
    }),
  );
  const perSec = done / ((performance.now() - t0) / 1000);
  await Promise.all(conns.map((c) => c.close()));
  return Math.round(perSec);
}

async function atomicity(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const c = db.collection('atomic');

  // 50 concurrent findOneAndUpdate $inc on one counter.
  let id = new ObjectId();
  await c.insertOne({ _id: id, seq: 0 });
  const got = await Promise.all(
    Array.from({ length: 50 }, () =>
      c.findOneAndUpdate({ _id: id }, { $inc: { seq: 1 } }, { returnDocument: 'after' }),
    ),
  );
  const distinct = new Set(got.map((d) => d?.seq)).size;
  out['50 concurrent findOneAndUpdate $inc'] =
    `counter ends at ${(await c.findOne({ _id: id }))?.seq}, ${distinct} distinct values returned`;

  // 50 concurrent updateOne $inc.
  id = new ObjectId();
  await c.insertOne({ _id: id, seq: 0 });
  await Promise.all(
    Array.from({ length: 50 }, () => c.updateOne({ _id: id }, { $inc: { seq: 1 } })),
  );
  out['50 concurrent updateOne $inc'] = `${(await c.findOne({ _id: id }))?.seq} increments kept`;

  // 30 concurrent compare-and-set from version 0.
  id = new ObjectId();
  await c.insertOne({ _id: id, version: 0 });
  const cas = await Promise.all(
    Array.from({ length: 30 }, () =>
      c.findOneAndUpdate(
        { _id: id, version: 0 },
        { $inc: { version: 1 } },
        { returnDocument: 'after' },
      ),
    ),
  );
  out['30 concurrent compare-and-set (version 0 → 1)'] =
    `${cas.filter((d) => d !== null).length} winners, version ends at ${(await c.findOne({ _id: id }))?.version}`;

  // Two concurrent $set of different fields, 100 times.
  let lost = 0;
  for (let trial = 0; trial < 100; trial++) {
    id = new ObjectId();
    await c.insertOne({ _id: id, a: 0, b: 0 });
    await Promise.all([
      c.updateOne({ _id: id }, { $set: { a: 1 } }),
      c.updateOne({ _id: id }, { $set: { b: 1 } }),
    ]);
    const d = await c.findOne({ _id: id });
    if (d?.a !== 1 || d?.b !== 1) lost++;
  }
  out['two concurrent $set of different fields, 100 trials'] = `${lost} trials lost one of them`;

  // 20 concurrent $set of 20 different fields on one document.
  id = new ObjectId();
  await c.insertOne({ _id: id });
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => c.updateOne({ _id: id }, { $set: { [`f${i}`]: 1 } })),
  );
  const fields = Object.keys((await c.findOne({ _id: id })) ?? {}).filter((k) => k !== '_id');
  out['20 concurrent $set of 20 different fields'] = `${fields.length} of 20 kept`;

  // 50 concurrent inserts of one key under a unique index.
  const u = db.collection('uniq');
  await u.createIndex({ k: 1, n: 1 }, { unique: true });
  const ins = await Promise.allSettled(
    Array.from({ length: 50 }, () => u.insertOne({ k: 'seq:p', n: 1 })),
  );
  const dup = ins.filter(
    (r) => r.status === 'rejected' && (r.reason as { code?: number }).code === 11000,
  ).length;
  out['50 concurrent inserts of one key, unique index'] =
    `${ins.filter((r) => r.status === 'fulfilled').length} success, ${dup} E11000`;

  // An update that breaks a unique index.
  await u.insertOne({ k: 'seq:p', n: 2 });
  try {
    await u.updateOne({ k: 'seq:p', n: 2 }, { $set: { n: 1 } });
    out['update that breaks a unique index'] = 'accepted (!)';
  } catch (err) {
    // FerretDB prefixes the backend's error with its Go call stack in brackets.
    const e = err as { code?: number; codeName?: string; message?: string };
    const msg = e.message ?? '';
    out['update that breaks a unique index'] =
      `refused: code ${e.code} ${e.codeName ?? ''}, "${msg.slice(msg.lastIndexOf('] ') + 1).trim()}"`;
  }
  return out;
}

async function measure(handler: string, url: string): Promise<HandlerResult> {
  const client = await new MongoClient(url, { maxPoolSize: 60 }).connect();
  const db = client.db('storage_bench');
  const members = db.collection('members');
  await members.createIndex({ projectId: 1, userId: 1 }, { unique: true });
  await members.createIndex({ userId: 1 });
  const projectId = new ObjectId();
  const users = Array.from({ length: MEMBERS }, () => new ObjectId());
  for (let i = 0; i < users.length; i += 500) {
    await members.insertMany(
      users.slice(i, i + 500).map((userId, j) => ({
        projectId,
        userId,
        role: (i + j) % 10 === 0 ? 'admin' : 'member',
        joinedAt: new Date(),
      })),
    );
  }
  const pick = (i: number) => users[(i * 7919) % users.length]!;
  say(`${handler}: ${MEMBERS} members loaded`);
  const lookupMs = await latency(SAMPLES, (i) => members.findOne({ projectId, userId: pick(i) }));
  const updateMs = await latency(SAMPLES, (i) =>
    members.updateOne({ projectId, userId: pick(i) }, { $set: { seenAt: new Date() } }),
  );
  say(`${handler}: lookup p50 ${lookupMs.p50} ms, updateOne p50 ${updateMs.p50} ms`);
  const lookupsPerSec = await throughput(url, (d, i) =>
    d.collection('members').findOne({ projectId, userId: pick(i) }),
  );
  const updatesPerSec = await throughput(url, (d, i) =>
    d
      .collection('members')
      .updateOne({ projectId, userId: pick(i) }, { $set: { seenAt: new Date() } }),
  );
  say(`${handler}: ${CLIENTS} clients: ${lookupsPerSec} lookups/s, ${updatesPerSec} updates/s`);
  const atomic = await atomicity(db);
  await db.dropDatabase();
  await client.close();
  return { handler, lookupMs, updateMs, lookupsPerSec, updatesPerSec, atomicity: atomic };
}

async function main() {
  say(
    `${MEMBERS} members, ${CLIENTS} concurrent clients for ${SECONDS} s, ${cpus().length} CPU cores`,
  );
  const results: HandlerResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'collabflow-storage-'));
  const started: ManagedService[] = [];
  try {
    const sqlite = await startFerretDB({ dataDir: join(dir, 'sqlite') });
    started.push(sqlite);
    results.push(await measure('sqlite', sqlite.url));
    await sqlite.stop();
    const pg = await startDatabase({ dataDir: join(dir, 'pg') });
    started.push(...pg.services);
    results.push(await measure(`postgresql ${pg.postgres.version}`, pg.url));
    await pg.stop();
  } finally {
    for (const s of started.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const [a, b] = results;
  if (!a || !b) return;
  const rows: Array<[string, string, string]> = [
    [
      'member lookup p50 / p95 (ms)',
      `${a.lookupMs.p50} / ${a.lookupMs.p95}`,
      `${b.lookupMs.p50} / ${b.lookupMs.p95}`,
    ],
    [
      'updateOne p50 / p95 (ms)',
      `${a.updateMs.p50} / ${a.updateMs.p95}`,
      `${b.updateMs.p50} / ${b.updateMs.p95}`,
    ],
    [`lookups/s, ${CLIENTS} clients`, String(a.lookupsPerSec), String(b.lookupsPerSec)],
    [`updates/s, ${CLIENTS} clients`, String(a.updatesPerSec), String(b.updatesPerSec)],
    ...Object.keys(a.atomicity).map((k): [string, string, string] => [
      k,
      a.atomicity[k] ?? '',
      b.atomicity[k] ?? '',
    ]),
  ];
  console.log(`\n| what | FerretDB 1.24.2 ${a.handler} | FerretDB 1.24.2 ${b.handler} |`);
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\n${JSON.stringify(results, null, 2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
