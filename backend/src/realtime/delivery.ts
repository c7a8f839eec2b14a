import { EventEmitter } from 'node:events';
import {
  rooms,
  type AnyDomainEvent,
  type ProjectRole,
  type ServerToClientEvents,
} from '@collabflow/shared';
import { accessCache } from '../projects/access-cache.js';
import {
  accessLost,
  currentRoles,
  eventFor,
  memberKey,
  seesMemberEmails,
} from '../projects/access.js';
import { ExpirySweep } from './expiry.js';
import type { LivePresence } from './live-presence.js';
import type { ClientSocket, IO } from './types.js';

type NotificationPayload = Parameters<ServerToClientEvents['notification']>[0];

/** The room of a project's owners and admins (who see members' e-mail addresses, [M1]). */
export const staffRoom = (projectId: string): string => `staff:${projectId.toLowerCase()}`;

/** Who a domain notifies of an event (decided beside the domain's service). */
export type Notifier = (
  event: AnyDomainEvent,
) => Array<{ userId: string; notification: NotificationPayload }>;

/** Why an SSE stream ends. */
export type StreamEnd = 'access_revoked' | 'project_deleted' | 'token_expired' | 'logged_out';

/** A live SSE stream of this replica. */
export interface StreamHandle {
  readonly userId: string;
  readonly projectId: string;
  /** Sends a last frame saying why and ends the response. */
  end(reason: StreamEnd): void;
  /** The user's role in the project changed (what the stream may show, [M1]). */
  setRole(role: ProjectRole): void;
}

/**
 * Who receives which project event, and who loses access: one module for sockets and SSE
 * streams alike. The domain decides the policy (`accessLost` in projects/access.ts, notifiers
 * beside each service); this carries it out:
 *
 * - `publish` (the replica where the change happened): the event to the project room, through
 *   the adapter to every replica's sockets, and the domain's notifications to user rooms.
 * - `apply` (every replica, for every event): the access cache forgets what changed, this
 *   replica's sockets of a removed member (or of a deleted project) leave the project's rooms and
 *   presence, its SSE streams end, and the event goes to the replica's SSE feed.
 */
export class Delivery {
  readonly #feed = new EventEmitter();
  /** The project of each channel room a socket of this replica joined. */
  readonly #channelRooms = new Map<string, string>();
  readonly #streams = new Set<StreamHandle>();
  readonly #notifiers: Notifier[] = [];
  /** SSE streams end when their access token expires ([C7]). */
  readonly #expiry = new ExpirySweep<StreamHandle>((s) => s.end('token_expired'));

  constructor(
    private readonly io: IO,
    private readonly presence: LivePresence,
    /** With Redis: messages to the other replicas (logout). */
    private readonly cluster: boolean,
  ) {
    this.#feed.setMaxListeners(0);
    io.on('end-user', (userId) => this.endStreamsOf(userId, 'logged_out'));
  }

  addNotifier(n: Notifier): void {
    this.#notifiers.push(n);
  }

  /** A project event, on the replica where it happened: to sockets everywhere, notifications. */
  publish(event: AnyDomainEvent): void {
    const room = rooms.project(event.projectId);
    const others = eventFor(event, 'member');
    if (others === event) {
      this.io.to(room).emit(event.type, payloadOf(event) as never);
    } else {
      // [M1] Owners and admins get the members' e-mail addresses, everyone else not.
      const staff = staffRoom(event.projectId);
      this.io.to(staff).emit(event.type, payloadOf(event) as never);
      this.io
        .to(room)
        .except(staff)
        .emit(event.type, payloadOf(others) as never);
    }
    for (const notify of this.#notifiers) {
      for (const { userId, notification } of notify(event))
        this.io.to(rooms.user(userId)).emit('notification', notification);
    }
  }

  /** What every replica does with every project event, wherever it happened. */
  apply(event: AnyDomainEvent): void {
    accessCache.invalidate(event);
    this.#feed.emit(event.projectId, event);
    const lost = accessLost(event);
    if (lost) this.revoke(lost.projectId, lost.userId);
    if (event.type === 'member:updated')
      this.#roleChanged(event.projectId, event.data.member.userId, event.data.member.role);
  }

  /** A new role may open or close the staff room ([M1]) for the member's joined sockets. */
  #roleChanged(projectId: string, userId: string, role: ProjectRole): void {
    const room = rooms.project(projectId);
    const staff = staffRoom(projectId);
    for (const s of this.localSockets(rooms.user(userId))) {
      if (seesMemberEmails(role) && s.rooms.has(room)) void s.join(staff);
      else void s.leave(staff);
    }
  }

  /** Every project event this replica sees, for SSE streams. */
  subscribe(projectId: string, handler: (event: AnyDomainEvent) => void): () => void {
    this.#feed.on(projectId, handler);
    return () => this.#feed.off(projectId, handler);
  }

  /** A socket of this replica joined a chat channel of the project. */
  trackChannel(channelId: string, projectId: string): void {
    this.#channelRooms.set(rooms.channel(channelId), projectId);
  }

  /** The project of a channel that a socket of this replica joined. */
  projectOfChannel(channelId: string): string | undefined {
    return this.#channelRooms.get(rooms.channel(channelId));
  }

  /** This replica's sockets in a room. */
  localSockets(room: string): ClientSocket[] {
    const ns = this.io.of('/');
    const ids = ns.adapter.rooms.get(room);
    if (!ids) return [];
    const found: ClientSocket[] = [];
    for (const id of ids) {
      const s = ns.sockets.get(id);
      if (s) found.push(s);
    }
    return found;
  }

  /**
   * On this replica: `userId` (everyone, without it) no longer has access to the project. Its
   * sockets leave the project's rooms (the project, its channels) and presence, and its SSE
   * streams end. The sockets stay connected ([C5]).
   */
  revoke(projectId: string, userId?: string): void {
    const projectRoom = rooms.project(projectId);
    const channels = [...this.#channelRooms]
      .filter(([, pid]) => pid === projectId)
      .map(([room]) => room);
    if (userId === undefined) {
      for (const room of channels) this.#channelRooms.delete(room);
      const all = [projectRoom, staffRoom(projectId), ...channels];
      this.io.local.in(all).socketsLeave(all);
    } else {
      for (const s of this.localSockets(rooms.user(userId))) {
        void s.leave(projectRoom);
        void s.leave(staffRoom(projectId));
        for (const room of channels) void s.leave(room);
      }
    }
    this.presence.forget(projectId, userId);
    for (const stream of this.#streams) {
      if (stream.projectId !== projectId) continue;
      if (userId === undefined) stream.end('project_deleted');
      else if (stream.userId === userId) stream.end('access_revoked');
    }
  }

  /**
   * Registers a live SSE stream whose access token expires at `exp` (seconds); returns the
   * function that forgets it. Register before checking access, so that a removal that lands
   * during the check is not missed.
   */
  openStream(stream: StreamHandle, exp: number): () => void {
    this.#streams.add(stream);
    this.#expiry.add(exp, stream);
    return () => {
      this.#streams.delete(stream);
      this.#expiry.remove(exp, stream);
    };
  }

  streams(): ReadonlySet<StreamHandle> {
    return this.#streams;
  }

  /** Ends this replica's SSE streams of a user. */
  endStreamsOf(userId: string, reason: StreamEnd): void {
    for (const s of [...this.#streams]) if (s.userId === userId) s.end(reason);
  }

  /**
   * Ends a user's sessions on every replica ([C6], logout): their sockets are disconnected
   * (through the adapter) and their SSE streams end.
   */
  endUser(userId: string): void {
    this.io.in(rooms.user(userId)).disconnectSockets(true);
    if (this.cluster) this.io.serverSideEmit('end-user', userId);
    this.endStreamsOf(userId, 'logged_out');
  }

  /**
   * Re-checks, against the database, the memberships of this replica's sockets (the project rooms
   * they are in) and SSE streams, and revokes those that no longer hold ([A2]): a removal whose
   * event was lost (Redis down) does not leave a connection in the project. Returns how many
   * (project, user) pairs lost access.
   */
  async recheck(): Promise<number> {
    const pairs = new Map<string, { projectId: string; userId: string }>();
    const prefix = rooms.project('');
    for (const socket of this.io.of('/').sockets.values()) {
      for (const room of socket.rooms) {
        if (!room.startsWith(prefix)) continue;
        const projectId = room.slice(prefix.length);
        pairs.set(memberKey(projectId, socket.data.userId), {
          projectId,
          userId: socket.data.userId,
        });
      }
    }
    for (const s of this.#streams)
      pairs.set(memberKey(s.projectId, s.userId), { projectId: s.projectId, userId: s.userId });
    const roles = await currentRoles([...pairs.values()]);
    let lost = 0;
    for (const [key, { projectId, userId }] of pairs) {
      const role = roles.get(key);
      if (role) {
        // A role change may have been missed too: what the connections may see follows it.
        this.#roleChanged(projectId, userId, role);
        for (const s of this.#streams)
          if (s.projectId === projectId && s.userId === userId) s.setRole(role);
        continue;
      }
      lost++;
      this.revoke(projectId, userId);
    }
    return lost;
  }

  close(): void {
    this.#expiry.close();
  }
}

/** A project event as sockets receive it: its data with the envelope beside it. */
function payloadOf(event: AnyDomainEvent): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    ...event.data,
    projectId: event.projectId,
    seq: event.seq,
    at: event.at,
    actor: event.actor,
  };
  if (event.clientId !== undefined) payload.clientId = event.clientId;
  return payload;
}
