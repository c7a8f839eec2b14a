import type { AnyDomainEvent, ProjectRole, PublicUserDTO } from '@collabflow/shared';

/**
 * What the hot path asks the database for, kept per replica: a member's role in a project
 * (`null`: not a member) and a user's public profile. Rules ([A1] in docs/protocol.md):
 *
 * - Member changes invalidate: `member:added|updated|removed` forget one entry and
 *   `project:deleted` the whole project (a tombstone, since the project's members are deleted
 *   after the event is published), on every replica: the local bus and the Redis adapter's
 *   `domain-event` call `invalidate` (`Delivery.apply` in realtime/delivery.ts).
 * - With Redis, an invalidation from another replica can be lost while this replica's Redis
 *   connections are down. So entries are trusted only while every one of them is up, and only if
 *   they were stored in the current epoch: the epoch changes (and the cache empties) whenever a
 *   connection goes down or comes back. While Redis is down every lookup reads the database.
 *   Without Redis (one instance) the local bus sees every change and the cache is always valid.
 * - A lookup whose database read was overtaken by an invalidation (or an epoch change) is not
 *   stored: the read may predate the change.
 * - A TTL bounds anything missed otherwise (a replica cut off from Redis alone drops its own
 *   invalidations; it tells the others to empty their caches when it reconnects).
 */

interface Entry<T> {
  value: T;
  expires: number;
}

export interface AccessCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
}

/** An LRU map with a TTL. */
class Lru<T> {
  readonly #map = new Map<string, Entry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}
  get(key: string, now: number): Entry<T> | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.#map.delete(key);
      return undefined;
    }
    // Most recently used last.
    this.#map.delete(key);
    this.#map.set(key, e);
    return e;
  }
  set(key: string, value: T, now: number) {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: now + this.ttlMs });
    if (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
  delete(key: string) {
    this.#map.delete(key);
  }
  clear() {
    this.#map.clear();
  }
  get size() {
    return this.#map.size;
  }
}

export class AccessCache {
  readonly #ttl: number;
  readonly #roles: Lru<ProjectRole | null>;
  readonly #users: Lru<PublicUserDTO>;
  /** Deleted projects, until no entry stored before their deletion can be alive. */
  readonly #tombstones = new Map<string, number>();
  /** Changes on every invalidation and Redis state change; a read that saw it move is not stored. */
  #generation = 0;
  /** Redis state sources of this process's servers; trusted only when all are up. */
  readonly #sources = new Set<() => boolean>();
  #enabled = true;
  hits = 0;
  misses = 0;

  constructor(opts: AccessCacheOptions = {}) {
    this.#ttl = opts.ttlMs ?? 60_000;
    const max = opts.maxEntries ?? 100_000;
    this.#roles = new Lru(this.#ttl, max);
    this.#users = new Lru(this.#ttl, max);
  }

  /**
   * A server with Redis registers its connection state: `isUp()` says whether every Redis
   * connection of the replica is up now; call the returned `changed` on every state change of
   * any of them (a new epoch). `detach` when the server closes.
   */
  attach(isUp: () => boolean): { changed(): void; detach(): void } {
    this.#sources.add(isUp);
    this.newEpoch();
    return {
      changed: () => this.newEpoch(),
      detach: () => {
        this.#sources.delete(isUp);
        this.newEpoch();
      },
    };
  }

  /** Forgets everything: Redis went down or came back, or another replica asks for it. */
  newEpoch(): void {
    this.#generation++;
    this.#roles.clear();
    this.#users.clear();
  }

  /** For tests and measurements: with `false` every lookup reads the database. */
  setEnabled(on: boolean): void {
    this.#enabled = on;
    this.newEpoch();
  }

  #trusted(): boolean {
    if (!this.#enabled) return false;
    for (const up of this.#sources) if (!up()) return false;
    return true;
  }

  /** Roster reads in flight, by project, with the generation they started in. */
  readonly #rosters = new Map<string, { gen: number; roster: Promise<Map<string, ProjectRole>> }>();

  /**
   * The role from the cache, or from the project's whole roster: on a miss every member's role
   * is read at once and stored, so a thousand people joining one project cost one read per
   * replica, not one each (a member lookup scans the collection on FerretDB). Concurrent misses
   * of a project share the read; a read that started before an invalidation is not used.
   */
  async roleFromRoster(
    projectId: string,
    userId: string,
    loadRoster: () => Promise<{ userId: string; role: ProjectRole }[]>,
  ): Promise<ProjectRole | null> {
    const pid = projectId.toLowerCase();
    const uid = userId.toLowerCase();
    const now = Date.now();
    if (this.#tombstones.size > 0 && this.#isTombstoned(pid, now)) return null;
    const key = `${pid}:${uid}`;
    const trusted = this.#trusted();
    if (trusted) {
      const e = this.#roles.get(key, now);
      if (e) {
        this.hits++;
        return e.value;
      }
    }
    this.misses++;
    let load = this.#rosters.get(pid);
    if (!load || load.gen !== this.#generation) {
      const gen = this.#generation;
      const roster = loadRoster().then(
        (list) => new Map(list.map((m) => [m.userId.toLowerCase(), m.role])),
      );
      load = { gen, roster };
      this.#rosters.set(pid, load);
      const mine = load;
      void roster
        .finally(() => {
          if (this.#rosters.get(pid) === mine) this.#rosters.delete(pid);
        })
        .catch(() => undefined);
    }
    const roster = await load.roster;
    const role = roster.get(uid) ?? null;
    if (trusted && load.gen === this.#generation && this.#trusted()) {
      const at = Date.now();
      for (const [u, r] of roster) this.#roles.set(`${pid}:${u}`, r, at);
      this.#roles.set(key, role, at);
    }
    return role;
  }

  /** A user's public profile from the cache, or from `load` (a missing user is not cached). */
  async user(
    userId: string,
    load: () => Promise<PublicUserDTO | null>,
  ): Promise<PublicUserDTO | null> {
    const now = Date.now();
    if (this.#enabled) {
      const e = this.#users.get(userId, now);
      if (e) return e.value;
    }
    const gen = this.#generation;
    const user = await load();
    if (user && this.#enabled && gen === this.#generation) this.#users.set(userId, user, now);
    return user;
  }

  /** Cached profiles of `ids`, and the ids that must be read. */
  usersCached(ids: string[]): { found: PublicUserDTO[]; missing: string[] } {
    const now = Date.now();
    const found: PublicUserDTO[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const e = this.#enabled ? this.#users.get(id, now) : undefined;
      if (e) found.push(e.value);
      else missing.push(id);
    }
    return { found, missing };
  }

  rememberUsers(users: PublicUserDTO[]): void {
    if (!this.#enabled) return;
    const now = Date.now();
    for (const u of users) this.#users.set(u.id, u, now);
  }

  /** A user's profile changed (no route changes it yet). */
  forgetUser(userId: string): void {
    this.#generation++;
    this.#users.delete(userId);
  }

  /** A project's membership may have changed for `userId` (all users: a new project). */
  forgetMember(projectId: string, userId: string): void {
    this.#generation++;
    this.#roles.delete(`${projectId.toLowerCase()}:${userId.toLowerCase()}`);
  }

  /** Applies a domain event from any replica. */
  invalidate(event: AnyDomainEvent): void {
    switch (event.type) {
      case 'member:added':
      case 'member:updated':
        this.forgetMember(event.projectId, event.data.member.userId);
        break;
      case 'member:removed':
        this.forgetMember(event.projectId, event.data.userId);
        break;
      case 'project:deleted': {
        this.#generation++;
        const now = Date.now();
        // Longer than an entry lives: whatever was stored before the members were deleted.
        this.#tombstones.set(event.projectId.toLowerCase(), now + 2 * this.#ttl);
        if (this.#tombstones.size > 1000) {
          for (const [pid, until] of this.#tombstones)
            if (until <= now) this.#tombstones.delete(pid);
        }
        break;
      }
      default:
        break;
    }
  }

  #isTombstoned(pid: string, now: number): boolean {
    const until = this.#tombstones.get(pid);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#tombstones.delete(pid);
    return false;
  }

  get size(): { roles: number; users: number } {
    return { roles: this.#roles.size, users: this.#users.size };
  }
}

/** The process's cache (like mongoose's models, one per process). */
export const accessCache = new AccessCache();
