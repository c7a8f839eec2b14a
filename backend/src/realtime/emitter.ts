/**
 * Emitting to CollabFlow clients from another process (a script, a BullMQ worker, a cron job)
 * without running a Socket.IO server: messages go through Redis to every replica's adapter,
 * which delivers them to its own sockets in the room.
 *
 *   import { createEmitter } from '@collabflow/backend/emitter';
 *   const emitter = createEmitter(process.env.REDIS_URL!);
 *   emitter.toUser(userId).emit('notification', { kind: 'digest', message: 'Your weekly digest is ready' });
 *   await emitter.close();
 *
 * Use it for notifications and other server-to-client messages of trusted code. Changes to
 * tasks or chat go through the services (REST or a socket) so they are validated, persisted and
 * numbered (`seq`); the emitter does not do that.
 */
import { readFileSync } from 'node:fs';
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { rooms, type ServerToClientEvents } from '@collabflow/shared';

/** The key of the replicas' Redis adapter (realtime/transport.ts) and of this emitter. */
export const ADAPTER_KEY = 'collabflow:socket.io';

export interface CollabEmitter {
  toProject(projectId: string): ReturnType<Emitter<ServerToClientEvents>['to']>;
  toUser(userId: string): ReturnType<Emitter<ServerToClientEvents>['to']>;
  /** Everyone connected to any replica. */
  all(): Emitter<ServerToClientEvents>;
  close(): Promise<void>;
}

export function createEmitter(
  redisUrl: string,
  opts: { tlsCaFile?: string; onError?: (err: Error) => void } = {},
): CollabEmitter {
  const client = new Redis(redisUrl, {
    connectionName: 'collabflow-emitter',
    maxRetriesPerRequest: 3,
    ...(redisUrl.startsWith('rediss://') && opts.tlsCaFile
      ? { tls: { ca: readFileSync(opts.tlsCaFile) } }
      : {}),
  });
  client.on('error', opts.onError ?? (() => undefined));
  const emitter = new Emitter<ServerToClientEvents>(client, { key: ADAPTER_KEY });
  return {
    toProject: (projectId) => emitter.to(rooms.project(projectId)),
    toUser: (userId) => emitter.to(rooms.user(userId)),
    all: () => emitter,
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
