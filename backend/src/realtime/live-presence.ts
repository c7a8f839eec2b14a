import { Types } from 'mongoose';
import { rooms, type PublicUserDTO } from '@collabflow/shared';
import { User, toPublicUser } from '../auth/user.model.js';
import { accessCache } from '../projects/access-cache.js';
import type { Presence, PresenceChange, PresenceEntry } from './presence.js';
import type { ClientSocket, IO } from './types.js';

/** Up to this many missing profiles are read one by id; more in one scan. */
const BY_ID_MAX = 32;

/** A user's public profile: from the access cache, else one read. */
export function publicUser(userId: string): Promise<PublicUserDTO | null> {
  return accessCache.user(userId, async () => {
    const u = await User.findById(userId, { name: 1, avatarColor: 1 }).lean();
    return u ? toPublicUser(u) : null;
  });
}

/**
 * This replica's side of presence ([P1]–[P4]): which of its sockets are online in which project,
 * the heartbeat that keeps them alive in the cluster-wide store, and the `user:joined` /
 * `user:left` announcements.
 */
export class LivePresence {
  /** This replica's live presence entries, by socket id. */
  readonly #local = new Map<string, Map<string, PresenceEntry>>();
  readonly #heartbeat: NodeJS.Timeout;
  #ticking = false;

  constructor(
    private readonly io: IO,
    private readonly store: Presence,
    private readonly instanceId: string,
    heartbeatMs: number,
  ) {
    this.#heartbeat = setInterval(() => this.#tick(), heartbeatMs);
    this.#heartbeat.unref();
  }

  #tick() {
    if (this.#ticking) return;
    this.#ticking = true;
    void (async () => {
      try {
        const entries = [...this.#local.values()].flatMap((m) => [...m.values()]);
        await this.#announceJoined(await this.store.heartbeat(entries));
        this.#announceLeft(await this.store.reap());
      } catch {
        // Redis away: the next tick tries again; the connection group has logged the outage.
      } finally {
        this.#ticking = false;
      }
    })();
  }

  async #announceJoined(changes: PresenceChange[]) {
    for (const c of changes) {
      const user = await publicUser(c.userId);
      this.io.to(rooms.project(c.projectId)).emit('user:joined', {
        projectId: c.projectId,
        userId: c.userId,
        ...(user ? { user } : {}),
      });
    }
  }

  #announceLeft(changes: PresenceChange[]) {
    for (const c of changes)
      this.io.to(rooms.project(c.projectId)).emit('user:left', {
        projectId: c.projectId,
        userId: c.userId,
      });
  }

  /**
   * The socket is online in the project. A socket that has disconnected (its disconnect handler
   * already ran) is not added: it would stay online forever, kept alive by the heartbeat ([P4]).
   */
  async join(socket: ClientSocket, projectId: string): Promise<void> {
    if (!socket.connected) return;
    const entry: PresenceEntry = {
      projectId,
      userId: socket.data.userId,
      connId: `${this.instanceId}/${socket.id}`,
    };
    let entries = this.#local.get(socket.id);
    if (!entries) this.#local.set(socket.id, (entries = new Map()));
    entries.set(projectId, entry);
    // Share this user's profile with the other replicas' "who is online" lists.
    void this.store.rememberProfiles([socket.data.user]).catch(() => undefined);
    const first = await this.store.join(entry).catch(() => false);
    if (first) {
      this.io.to(rooms.project(projectId)).emit('user:joined', {
        projectId,
        userId: entry.userId,
        user: socket.data.user,
      });
    }
  }

  async leave(socketId: string, projectId: string): Promise<void> {
    const entries = this.#local.get(socketId);
    const entry = entries?.get(projectId);
    if (!entries || !entry) return;
    entries.delete(projectId);
    if (entries.size === 0) this.#local.delete(socketId);
    const last = await this.store.leave(entry).catch(() => false);
    if (last) this.#announceLeft([{ projectId, userId: entry.userId }]);
  }

  /** Every project of a socket that disconnected. */
  leaveAll(socketId: string): Promise<void> {
    const projects = [...(this.#local.get(socketId)?.keys() ?? [])];
    return Promise.all(projects.map((pid) => this.leave(socketId, pid))).then(() => undefined);
  }

  /** A user lost access to the project (or, without `userId`, the project is gone). */
  forget(projectId: string, userId?: string): void {
    for (const [socketId, entries] of this.#local) {
      const e = entries.get(projectId);
      if (e && (userId === undefined || e.userId === userId)) void this.leave(socketId, projectId);
    }
  }

  /** Who is online in the project, cluster-wide (`fallback` while Redis is away). */
  async online(projectId: string, fallback: PublicUserDTO[]): Promise<PublicUserDTO[]> {
    let ids: string[];
    try {
      ids = await this.store.online(projectId);
    } catch {
      return fallback; // Redis away: we only know ourselves
    }
    if (ids.length === 0) return [];
    const { found, missing } = accessCache.usersCached(ids);
    if (missing.length === 0) return found;
    // Profiles another replica already looked up are shared through the presence store.
    const shared: (PublicUserDTO | null)[] = await this.store
      .profiles(missing)
      .catch(() => missing.map(() => null));
    const fromStore = shared.filter((u): u is PublicUserDTO => u !== null);
    accessCache.rememberUsers(fromStore);
    const unknown = missing.filter((_, i) => shared[i] === null);
    if (unknown.length === 0) return [...found, ...fromStore];
    // A few new faces are read by id, which FerretDB answers from its primary key; `$in` is
    // not pushed down and would scan every user. Many (a cold cache) are read in one scan.
    const users =
      unknown.length <= BY_ID_MAX
        ? (
            await Promise.all(
              unknown.map((id) => User.findById(id, { name: 1, avatarColor: 1 }).lean()),
            )
          ).flatMap((u) => (u ? [toPublicUser(u)] : []))
        : (
            await User.find(
              { _id: { $in: unknown.map((id) => new Types.ObjectId(id)) } },
              { name: 1, avatarColor: 1 },
            ).lean()
          ).map(toPublicUser);
    accessCache.rememberUsers(users);
    void this.store.rememberProfiles(users).catch(() => undefined);
    return [...found, ...fromStore, ...users];
  }

  /** Stops the heartbeat and removes every entry of this replica (bounded by `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    clearInterval(this.#heartbeat);
    const entries = [...this.#local.entries()].flatMap(([sid, m]) =>
      [...m.keys()].map((pid) => [sid, pid] as const),
    );
    await Promise.race([
      Promise.all(entries.map(([sid, pid]) => this.leave(sid, pid))),
      new Promise((r) => setTimeout(r, timeoutMs)),
    ]);
  }
}
