/**
 * Property-based bad input with fast-check, shared by the fuzz-*.test.ts files.
 *
 * A target (a socket event or a REST body) is described by a valid payload and the kind of each
 * field; `casesFor` then draws damaged payloads from it: the whole payload replaced, one field
 * given a value of the wrong type or out of range, a required field dropped, an extra key (an
 * operator, a prototype key, a role), or a well-formed payload naming something that does not
 * exist. Every value a field kind draws is invalid for that kind by construction; the tests also
 * check it against the shared zod schema (so a generator slip or a too-lax schema both show).
 *
 * The seed comes from FUZZ_SEED (default DEFAULT_FUZZ_SEED, fixed in CI) and is printed.
 */
import fc from 'fast-check';
import mongoose from 'mongoose';
import { client, registerUser } from './api.js';

export const DEFAULT_FUZZ_SEED = 20_261_129;

/** FUZZ_SEED from the environment (any integer), else the fixed default. */
export function fuzzSeed(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return DEFAULT_FUZZ_SEED;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got ${raw}`);
  return n;
}

// ---------- building blocks ----------
const HEX24 = /^[a-f0-9]{24}$/i;
const ASCII = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$.{}[]-_'];

/** A long string of printable ASCII (no quote or backslash, so its JSON is as long as it is). */
export function longString(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .record({
      unit: fc.string({ unit: fc.constantFrom(...ASCII), minLength: 1, maxLength: 97 }),
      length: fc.integer({ min, max }),
    })
    .map(({ unit, length }) => 'x' + unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
}

/** A huge string (20,000 to 40,000 characters): under the socket frame limit, over every field's. */
export const hugeString = longString(20_000, 40_000);

/** MongoDB query and update operators, as whole values. */
export const operatorObject: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constantFrom<Record<string, unknown>>(
    { $gt: '' },
    { $ne: null },
    { $regex: '.*' },
    { $where: 'sleep(1000) || true' },
    { $exists: true },
    { $in: ['x'] },
    { $gt: '', $lt: 'z' },
    { $expr: { $eq: [1, 1] } },
  ),
  fc
    .record({
      op: fc.constantFrom('$gt', '$gte', '$lt', '$ne', '$nin', '$in', '$regex', '$set', '$or'),
      value: fc.jsonValue({ maxDepth: 2 }),
    })
    .map(({ op, value }) => ({ [op]: value })),
);

/** Objects whose own keys are __proto__, constructor or prototype, as JSON.parse makes them. */
export const prototypeObject: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc
    .constantFrom(
      '{"__proto__":{"polluted":"yes","isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"prototype":{"polluted":"yes"}}',
      '{"__proto__":{"toString":"x"},"constructor":{"name":"x"}}',
    )
    .map((j) => JSON.parse(j) as Record<string, unknown>),
  fc
    .record({
      key: fc.constantFrom('__proto__', 'constructor', 'prototype'),
      value: fc.jsonValue({ maxDepth: 2 }),
    })
    .map(
      ({ key, value }) =>
        JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as Record<string, unknown>,
    ),
);

/** Nesting 50 to 1,500 deep, of arrays or of objects. */
export const deepValue: fc.Arbitrary<unknown> = fc
  .record({
    depth: fc.integer({ min: 50, max: 1500 }),
    arrays: fc.boolean(),
    leaf: fc.constantFrom<unknown>(1, 'x', null, { $gt: '' }),
  })
  .map(({ depth, arrays, leaf }) => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });

/** JSON values that are neither strings nor null (NaN and infinities excluded: JSON makes them null). */
const notStringOrNull: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  operatorObject,
  prototypeObject,
  deepValue,
);

const whitespace = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), maxLength: 6 });

export type Kind =
  | 'id'
  | 'nullableId'
  | 'title'
  | 'description'
  | 'content'
  | 'name'
  | 'channelName'
  | 'email'
  | 'password'
  | 'loginPassword'
  | 'status'
  | 'priority'
  | 'role'
  | 'bool'
  | 'nonNegativeInt'
  | 'clientId'
  | 'date'
  | 'labels'
  | 'subtasks'
  | 'object';

const ENUMS = {
  status: ['todo', 'in-progress', 'review', 'done'],
  priority: ['low', 'medium', 'high', 'urgent'],
  role: ['owner', 'admin', 'member', 'viewer'],
} as const;

const notInEnum = (values: readonly string[]) =>
  fc.oneof(
    fc.string({ maxLength: 20 }).filter((s) => !values.includes(s)),
    fc.constantFrom(...values).map((v) => v.toUpperCase()),
    fc.constantFrom(...values).map((v) => ` ${v}`),
  );

/** A value certainly invalid for a field of this kind. */
export function invalidFor(kind: Kind): fc.Arbitrary<unknown> {
  const nullOr = (a: fc.Arbitrary<unknown>) => fc.oneof(a, fc.constant(null));
  switch (kind) {
    case 'id':
      return fc.oneof(
        nullOr(notStringOrNull),
        fc.string({ maxLength: 30 }).filter((s) => !HEX24.test(s)),
        fc.constantFrom('', 'g'.repeat(24), '0'.repeat(23), `${'a'.repeat(24)}\n`, '../../etc'),
        hugeString,
      );
    case 'nullableId':
      return fc.oneof(
        notStringOrNull,
        fc.string({ maxLength: 30 }).filter((s) => !HEX24.test(s)),
        hugeString,
      );
    case 'title':
      return fc.oneof(nullOr(notStringOrNull), whitespace, longString(201, 40_000));
    case 'description':
      return fc.oneof(nullOr(notStringOrNull), longString(10_001, 40_000));
    case 'content':
      return fc.oneof(nullOr(notStringOrNull), whitespace, longString(4001, 40_000));
    case 'name':
      return fc.oneof(nullOr(notStringOrNull), whitespace, longString(101, 40_000));
    case 'channelName':
      return fc.oneof(
        nullOr(notStringOrNull),
        whitespace,
        fc.string({ maxLength: 20 }).map((s) => `!${s}`),
        fc.constantFrom('has space', 'dots.not.allowed', '-leading', 'ünïcode', '$where'),
        longString(81, 40_000),
      );
    case 'email':
      return fc.oneof(
        nullOr(notStringOrNull),
        fc.string({ maxLength: 40 }).map((s) => s.replaceAll('@', '')),
        longString(300, 40_000).map((s) => `${s}@example.test`),
      );
    case 'password':
      return fc.oneof(
        nullOr(notStringOrNull),
        fc.string({ maxLength: 7 }),
        longString(201, 40_000),
      );
    case 'loginPassword':
      return fc.oneof(nullOr(notStringOrNull), fc.constant(''), longString(201, 40_000));
    case 'status':
    case 'priority':
    case 'role':
      return fc.oneof(nullOr(notStringOrNull), notInEnum(ENUMS[kind]));
    case 'bool':
      return fc.oneof(
        fc.integer(),
        fc.string({ maxLength: 8 }),
        fc.constant(null),
        fc.constantFrom('true', 'false', 0, 1, []),
        operatorObject,
        prototypeObject,
      );
    case 'nonNegativeInt':
      return fc.oneof(
        fc.integer({ max: -1 }),
        fc.double({ min: 0.001, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
        fc.nat().map(String),
        fc.constant(null),
        fc.boolean(),
        operatorObject,
        prototypeObject,
        deepValue,
      );
    case 'clientId':
      return fc.oneof(nullOr(notStringOrNull), fc.constant(''), longString(101, 40_000));
    case 'date':
      return fc.oneof(
        notStringOrNull,
        fc.string({ maxLength: 20 }).map((s) => `x${s}`),
        fc.constantFrom('2024-13-45', '2024-02-30T25:00:00Z', 'yesterday', '1700000000'),
      );
    case 'labels':
      return fc.oneof(
        fc.oneof(fc.integer(), fc.boolean(), fc.string(), operatorObject, prototypeObject),
        fc.constant(null),
        fc.array(fc.oneof(notStringOrNull, whitespace, longString(51, 5000)), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.constantFrom('a', 'b'), { minLength: 21, maxLength: 40 }),
        deepValue.map((d) => [d]),
      );
    case 'subtasks':
      return fc.oneof(
        fc.oneof(fc.integer(), fc.boolean(), fc.string(), operatorObject, prototypeObject),
        fc.constant(null),
        fc.array(
          fc.oneof(
            fc.record({ title: notStringOrNull }),
            fc.record({ title: fc.constant('s'), done: fc.oneof(fc.string(), fc.integer()) }),
            fc.constant({}),
            fc.constant({ title: 's', extra: 1 }),
            operatorObject,
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.constant(Array.from({ length: 51 }, () => ({ title: 's' }))),
      );
    case 'object':
      return fc.oneof(
        fc.constant(null),
        fc.integer(),
        fc.string({ maxLength: 20 }),
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
        operatorObject,
        prototypeObject,
        deepValue,
        hugeString,
      );
  }
}

export interface Field {
  path: readonly string[];
  kind: Kind;
  required: boolean;
}

export interface Target {
  /** The socket event, or "METHOD /path" for REST. */
  name: string;
  /** A valid payload (every damage below makes it invalid). */
  valid: () => unknown;
  fields: readonly Field[];
  /** Keys the payload (or, by path, a nested object) accepts: extra keys are drawn outside it. */
  keys: Readonly<Record<string, readonly string[]>>;
  /** A well-formed payload naming something that does not exist, and the answer it gets. */
  unknown?: fc.Arbitrary<{ payload: unknown; code: string }>;
}

export type Damage = 'replace' | 'wrongType' | 'missing' | 'extraKey' | 'unknownId';

export interface Case {
  target: string;
  damage: Damage;
  payload: unknown;
  /** The error code the answer must carry. */
  code: string;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  Object.defineProperty(o, path[path.length - 1]!, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
function deletePath(obj: Record<string, unknown>, path: readonly string[]) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  delete o[path[path.length - 1]!];
}
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '$set',
  '$gt',
  'isAdmin',
  'role',
  'userId',
  'ownerId',
  'seq',
  '_id',
  'id',
  'createdBy',
];

/** The damaged payloads of one target. */
export function damaged(target: Target): fc.Arbitrary<Case> {
  const base = target.valid();
  const isObject = typeof base === 'object' && base !== null;
  const v = 'validation_failed';
  const arbs: fc.Arbitrary<Case>[] = [];
  const make = (damage: Damage, a: fc.Arbitrary<unknown>, code = v) =>
    a.map((payload) => ({ target: target.name, damage, payload, code }));

  // The whole payload is something else.
  arbs.push(
    make(
      'replace',
      fc.oneof(
        fc.constant(null),
        notStringOrNull.filter((x) => !isObject || Array.isArray(x) || typeof x !== 'object'),
        operatorObject,
        prototypeObject,
        deepValue,
        hugeString,
        fc.string({ maxLength: 30 }).filter((s) => !HEX24.test(s)),
        fc.constant([base]),
      ),
    ),
  );
  if (isObject) {
    // One field gets a bad value (weighted: this is where most bugs hide).
    const field = fc.constantFrom(...target.fields);
    const wrong = field.chain((f) =>
      invalidFor(f.kind).map((bad) => {
        const p = copy(base) as Record<string, unknown>;
        setPath(p, f.path, bad);
        return p;
      }),
    );
    arbs.push(make('wrongType', wrong), make('wrongType', wrong), make('wrongType', wrong));
    const required = target.fields.filter((f) => f.required);
    if (required.length > 0) {
      arbs.push(
        make(
          'missing',
          fc.constantFrom(...required).map((f) => {
            const p = copy(base) as Record<string, unknown>;
            deletePath(p, f.path);
            return p;
          }),
        ),
      );
    }
    // An extra key, at the top or in a nested object.
    const places = Object.keys(target.keys);
    arbs.push(
      make(
        'extraKey',
        fc
          .record({
            place: fc.constantFrom(...places),
            key: fc.oneof(
              fc.constantFrom(...EXTRA_KEYS),
              fc.string({ minLength: 1, maxLength: 40 }),
            ),
            value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), operatorObject, prototypeObject),
          })
          .filter(({ place, key }) => !target.keys[place]!.includes(key))
          .map(({ place, key, value }) => {
            const p = copy(base) as Record<string, unknown>;
            const at = place === '' ? p : (p[place] as Record<string, unknown>);
            Object.defineProperty(at, key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
            return p;
          }),
      ),
    );
  }
  if (target.unknown) {
    arbs.push(
      target.unknown.map(({ payload, code }) => ({
        target: target.name,
        damage: 'unknownId' as const,
        payload,
        code,
      })),
    );
  }
  return fc.oneof(...arbs);
}

/** A well-formed id that names nothing (a fresh ObjectId: the database never issued it). */
export const unknownId: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((b) => `ffffff${Buffer.from(b).toString('hex').slice(6)}`);

/** `count` cases spread evenly over the targets, drawn from `seed`. */
export function casesFor(targets: readonly Target[], count: number, seed: number): Case[] {
  const per = Math.ceil(count / targets.length);
  return targets.flatMap((t, i) => fc.sample(damaged(t), { seed: seed + i, numRuns: per }));
}

/** What the cases hold, by kind of bad input, so the test can show the contract's kinds occur. */
export function tally(cases: readonly Case[]) {
  const json = cases.map((c) => JSON.stringify(c.payload) ?? '');
  return {
    total: cases.length,
    huge: json.filter((j) => j.length >= 20_000).length,
    operator: json.filter((j) => /"\$(gt|gte|lt|ne|nin|in|regex|where|exists|set|or|expr)"/.test(j))
      .length,
    prototypeKey: json.filter((j) => /"(__proto__|constructor|prototype)"/.test(j)).length,
    deep: json.filter((j) => nesting(j) >= 50).length,
    wrongTypeTop: cases.filter(
      (c) => typeof c.payload !== 'object' || c.payload === null || Array.isArray(c.payload),
    ).length,
    unknownId: cases.filter((c) => c.damage === 'unknownId').length,
    maxJsonLength: Math.max(...json.map((j) => j.length)),
  };
}

/** The deepest bracket nesting of a JSON text, not counting brackets inside strings. */
export function nesting(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') max = Math.max(max, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return max;
}

/** A short description of a payload for a failure message. */
export function shown(payload: unknown): string {
  return (JSON.stringify(payload) ?? String(payload)).slice(0, 200);
}

/**
 * Every document of every collection of a database, ordered by _id: what "nothing changed"
 * compares. The write path deletes a change's outbox record just after answering (backend/src/
 * projects/write-path.ts), so the snapshot first waits (up to 5 s) for the outbox to drain:
 * a record left after that is part of the snapshot and shows as a change.
 */
export async function dbSnapshot(conn: mongoose.Connection): Promise<Record<string, unknown[]>> {
  const db = conn.db;
  if (!db) throw new Error('not connected');
  const outbox = db.collection('outbox');
  for (const until = Date.now() + 5000; Date.now() < until;) {
    if ((await outbox.countDocuments({})) === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const names = (await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .sort();
  const out: Record<string, unknown[]> = {};
  for (const name of names) {
    const docs = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
    out[name] = JSON.parse(JSON.stringify(docs)) as unknown[];
  }
  return out;
}

export async function openDb(uri: string): Promise<mongoose.Connection> {
  return mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
}

export function isStructuredAck(ack: unknown): ack is {
  ok: false;
  error: { code: string; message: string };
} {
  if (typeof ack !== 'object' || ack === null) return false;
  const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  return (
    a.ok === false &&
    typeof a.error === 'object' &&
    a.error !== null &&
    typeof a.error.code === 'string' &&
    a.error.code.length > 0 &&
    typeof a.error.message === 'string'
  );
}

/** The people and places every fuzz file works on: an owner and a member of one project. */
export interface FuzzProject {
  owner: Awaited<ReturnType<typeof registerUser>>;
  mate: Awaited<ReturnType<typeof registerUser>>;
  projectId: string;
  channelId: string;
}

/** Registers the owner and the member and creates their project (with its #general). */
export async function fuzzProject(url: string): Promise<FuzzProject> {
  const api = client(url);
  const owner = await registerUser(api, 'Owner');
  const mate = await registerUser(api, 'Mate');
  const projectId = (await api.post('/api/projects', { name: 'Fuzz board' }, owner.token)).body
    .project.id as string;
  const added = await api.post(
    `/api/projects/${projectId}/members`,
    { email: mate.user.email, role: 'member' },
    owner.token,
  );
  if (added.status !== 201) throw new Error(`could not add the member: ${added.status}`);
  const channelId = (await api.get(`/api/projects/${projectId}/channels`, owner.token)).body
    .channels[0].id as string;
  return { owner, mate, projectId, channelId };
}
