import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startRedis, type ManagedService } from '../../scripts/lib/services.js';
import { createEmitter } from '../src/realtime/emitter.js';
import { client, freshMongoUri, registerUser } from './helpers/api.js';
import { sentinel } from './helpers/sentinel.js';
import {
  call,
  collect,
  connected,
  socketFor,
  startReplica,
  waitUntil,
  type Replica,
} from './helpers/cluster.js';

/** A private CA and a server certificate for 127.0.0.1, made with openssl for this run. */
function makeCerts(dir: string) {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=CollabFlow test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  ]);
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  };
}

describe('rediss:// (TLS) between two replicas', () => {
  let dir: string;
  let redis: ManagedService;
  let A: Replica;
  let B: Replica;
  let caFile: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collabflow-tls-'));
    const certs = makeCerts(dir);
    caFile = certs.caFile;
    redis = await startRedis({ dataDir: join(dir, 'redis'), tls: certs });
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const env = {
      MONGODB_URI: freshMongoUri('tls'),
      REDIS_URL: redis.url,
      REDIS_TLS_CA_FILE: caFile,
    };
    [A, B] = await Promise.all([startReplica('tls-a', env), startReplica('tls-b', env)]);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all([A?.stop(), B?.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects over TLS and carries broadcasts from one replica to the other', async () => {
    for (const r of [A, B]) {
      await waitUntil(
        async () => (await client(r.url).get('/readyz')).body.redis === 'up',
        10_000,
        `${r.name} redis up`,
      );
    }
    const api = client(A.url);
    const owner = await registerUser(api, 'TlsOwner');
    const projectId = (await api.post('/api/projects', { name: 'TLS' }, owner.token)).body.project
      .id;
    const onA = socketFor(A.url, owner.token);
    const onB = socketFor(B.url, owner.token);
    sockets.push(onA, onB);
    await Promise.all([connected(onA), connected(onB)]);
    await call(onA, 'join:project', projectId);
    await call(onB, 'join:project', projectId);
    const seen = collect(onB, 'task:created');
    expect((await call(onA, 'task:create', { projectId, task: { title: 'over TLS' } })).ok).toBe(
      true,
    );
    await waitUntil(() => seen.length === 1, 5000, 'task:created on B over TLS');
    expect(seen[0].task.title).toBe('over TLS');
  });

  it('a process that is not a server publishes to rooms through @socket.io/redis-emitter', async () => {
    const api = client(B.url);
    const user = await registerUser(api, 'EmitterTarget');
    const other = await registerUser(api, 'Bystander');
    const target = socketFor(B.url, user.token);
    const bystander = socketFor(A.url, other.token);
    sockets.push(target, bystander);
    await Promise.all([connected(target), connected(bystander)]);
    const got = collect(target, 'notification');
    const notGot = collect(bystander, 'notification');
    const emitter = createEmitter(redis.url, { tlsCaFile: caFile });
    try {
      emitter
        .toUser(user.user.id)
        .emit('notification', { kind: 'digest', message: 'Your weekly digest is ready' });
      await waitUntil(() => got.length === 1, 5000, 'notification from the emitter');
      expect(got[0]).toEqual({ kind: 'digest', message: 'Your weekly digest is ready' });
      // The sentinel: a notification to the bystander from the same emitter (one Redis
      // connection, whose messages Redis delivers in order), so it reaches A's subscriber and
      // the bystander's WebSocket after the first one would have.
      const forBystander = { kind: 'digest', message: 'Yours is ready too' };
      await sentinel(
        async () => emitter.toUser(other.user.id).emit('notification', forBystander),
        () => notGot.length > 0,
        'the notification for the bystander',
      );
      expect(notGot).toEqual([forBystander]);
    } finally {
      await emitter.close();
    }
  });
});

describe('the emitter on a plain redis:// URL', () => {
  it('reaches a socket on a replica of the shared Redis', async () => {
    const R = await startReplica('emitter-plain', {
      MONGODB_URI: freshMongoUri('emit'),
      REDIS_URL: inject('redisUrl'),
    });
    const emitter = createEmitter(inject('redisUrl'));
    try {
      const api = client(R.url);
      const owner = await registerUser(api, 'ProjEmit');
      const projectId = (await api.post('/api/projects', { name: 'Emit' }, owner.token)).body
        .project.id;
      const s = socketFor(R.url, owner.token);
      await connected(s);
      await call(s, 'join:project', projectId);
      const got = collect(s, 'notification');
      emitter
        .toProject(projectId)
        .emit('notification', { kind: 'maintenance', message: 'Deploy at 18:00', projectId });
      await waitUntil(() => got.length === 1, 5000, 'project notification');
      expect(got[0]).toMatchObject({ kind: 'maintenance', projectId });
      s.disconnect();
    } finally {
      await emitter.close();
      await R.stop();
    }
  });
});
