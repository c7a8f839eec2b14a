import type { Server, Socket } from 'socket.io';
import type {
  AnyDomainEvent,
  ClientToServerEvents,
  PublicUserDTO,
  ServerToClientEvents,
} from '@collabflow/shared';

/** Messages between replicas, through the Redis adapter. */
export interface InterServerEvents {
  'domain-event': (event: AnyDomainEvent) => void;
  /** A replica whose Redis connections came back may have dropped invalidations: empty caches. */
  'access-flush': () => void;
  /** Logout (and the like): end this user's SSE streams on every replica ([A5]). */
  'end-user': (userId: string) => void;
}

export interface SocketData {
  userId: string;
  user: PublicUserDTO;
  tokenExp: number;
}

export type IO = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ClientSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
