import type { Redis } from 'ioredis';
import type { PublicUserDTO } from '@collabflow/shared';

/** One live connection of a user to a project. `connId` is unique across the cluster. */
export interface PresenceEntry {
  projectId: string;
  userId: string;
  connId: string;
}

export interface PresenceChange {
  projectId: string;
  userId: string;
}

/**
 * Who is online in each project, across every replica. A user with several connections is online
 * once; `join` says whether this was their first live connection and `leave` whether it was their
 * last. Entries expire unless refreshed, so a replica that dies without saying goodbye loses its
 * users once `reap` runs on any surviving replica.
 */
export interface Presence {
  join(entry: PresenceEntry): Promise<boolean>;
  leave(entry: PresenceEntry): Promise<boolean>;
  online(projectId: string): Promise<string[]>;
  /** Re-asserts live entries; returns the ones that had expired meanwhile and came back first. */
  heartbeat(entries: PresenceEntry[]): Promise<PresenceChange[]>;
  /** Removes expired entries; returns the users whose last connection that was. */
  reap(): Promise<PresenceChange[]>;
  /**
   * The public profiles (name, colour) of users who joined on any replica, so that listing who is
   * online reads no database for people another replica already looked up; null where unknown.
   */
  profiles(userIds: string[]): Promise<(PublicUserDTO | null)[]>;
  rememberProfiles(users: PublicUserDTO[]): Promise<void>;
}

/** How long a shared profile is kept (profiles do not change; deleted users stop joining). */
const PROFILE_TTL_S = 3600;

/** A heartbeat re-asserts each entry with `join`; those that come back first are new arrivals. */
async function rejoinAll(p: Presence, entries: PresenceEntry[]): Promise<PresenceChange[]> {
  const back: PresenceChange[] = [];
  for (const e of entries)
    if (await p.join(e)) back.push({ projectId: e.projectId, userId: e.userId });
  return back;
}

const memberOf = (e: PresenceEntry) => `${e.userId}|${e.connId}`;
const userOf = (member: string) => member.slice(0, member.indexOf('|'));

/** Single-process presence, for running without Redis. Same contract as RedisPresence. */
export class MemoryPresence implements Presence {
  readonly #projects = new Map<string, Map<string, number>>();
  readonly #profiles = new Map<string, PublicUserDTO>();

  async profiles(userIds: string[]): Promise<(PublicUserDTO | null)[]> {
    return userIds.map((id) => this.#profiles.get(id) ?? null);
  }

  async rememberProfiles(users: PublicUserDTO[]): Promise<void> {
    for (const u of users) this.#profiles.set(u.id, u);
    // Bounded: the oldest go first.
    while (this.#profiles.size > 100_000) {
      this.#profiles.delete(this.#profiles.keys().next().value as string);
    }
  }
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  #live(projectId: string): Map<string, number> {
    let m = this.#projects.get(projectId);
    if (!m) this.#projects.set(projectId, (m = new Map()));
    return m;
  }

  #hasOtherLive(entries: Map<string, number>, userId: string, except: string): boolean {
    const t = this.now();
    for (const [member, exp] of entries)
      if (exp > t && member !== except && userOf(member) === userId) return true;
    return false;
  }

  async join(e: PresenceEntry): Promise<boolean> {
    const entries = this.#live(e.projectId);
    const member = memberOf(e);
    const wasLive = (entries.get(member) ?? 0) > this.now();
    const first = !wasLive && !this.#hasOtherLive(entries, e.userId, member);
    entries.set(member, this.now() + this.ttlMs);
    return first;
  }

  async leave(e: PresenceEntry): Promise<boolean> {
    const entries = this.#projects.get(e.projectId);
    const member = memberOf(e);
    if (!entries?.delete(member)) return false;
    const last = !this.#hasOtherLive(entries, e.userId, member);
    if (entries.size === 0) this.#projects.delete(e.projectId);
    return last;
  }

  async online(projectId: string): Promise<string[]> {
    const t = this.now();
    const users = new Set<string>();
    for (const [member, exp] of this.#projects.get(projectId) ?? [])
      if (exp > t) users.add(userOf(member));
    return [...users];
  }

  heartbeat(entries: PresenceEntry[]): Promise<PresenceChange[]> {
    return rejoinAll(this, entries);
  }

  async reap(): Promise<PresenceChange[]> {
    const t = this.now();
    const left: PresenceChange[] = [];
    for (const [projectId, entries] of this.#projects) {
      const expiredUsers = new Set<string>();
      for (const [member, exp] of entries) {
        if (exp <= t) {
          entries.delete(member);
          expiredUsers.add(userOf(member));
        }
      }
      for (const userId of expiredUsers) {
        if (!this.#hasOtherLive(entries, userId, '')) left.push({ projectId, userId });
      }
      if (entries.size === 0) this.#projects.delete(projectId);
    }
    return left;
  }
}

// Each script runs atomically in Redis, so two replicas can never both see "first" or "last".
const JOIN = `
local now = tonumber(ARGV[3])
local prefix = ARGV[1] .. '|'
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
local first = 1
if score and tonumber(score) > now then first = 0 end
if first == 1 then
  local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
  for _, m in ipairs(live) do
    if m ~= ARGV[2] and string.sub(m, 1, #prefix) == prefix then first = 0 break end
  end
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[5])
return first
`;

const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return 0 end
local prefix = ARGV[1] .. '|'
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf')
for _, m in ipairs(live) do
  if string.sub(m, 1, #prefix) == prefix then return 0 end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[4]) end
return 1
`;

const REAP = `
local now = ARGV[1]
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local alive = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  alive[string.sub(m, 1, string.find(m, '|', 1, true) - 1)] = true
end
local left, seen = {}, {}
for _, m in ipairs(expired) do
  local u = string.sub(m, 1, string.find(m, '|', 1, true) - 1)
  if not alive[u] and not seen[u] then
    seen[u] = true
    table.insert(left, u)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return left
`;

/** Cluster-wide presence in Redis: one sorted set per project, scored by expiry time. */
export class RedisPresence implements Presence {
  readonly #projectsKey: string;
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly prefix = 'collabflow:presence',
    private readonly now: () => number = Date.now,
  ) {
    this.#projectsKey = `${prefix}:projects`;
  }

  #key(projectId: string) {
    return `${this.prefix}:project:${projectId}`;
  }

  #profileKey(userId: string) {
    return `${this.prefix}:profile:${userId}`;
  }

  async profiles(userIds: string[]): Promise<(PublicUserDTO | null)[]> {
    if (userIds.length === 0) return [];
    const raw = await this.redis.mget(userIds.map((id) => this.#profileKey(id)));
    return raw.map((v) => (v === null ? null : (JSON.parse(v) as PublicUserDTO)));
  }

  async rememberProfiles(users: PublicUserDTO[]): Promise<void> {
    if (users.length === 0) return;
    const m = this.redis.multi();
    for (const u of users) m.set(this.#profileKey(u.id), JSON.stringify(u), 'EX', PROFILE_TTL_S);
    await m.exec();
  }

  async join(e: PresenceEntry): Promise<boolean> {
    const t = this.now();
    const first = await this.redis.eval(
      JOIN,
      2,
      this.#key(e.projectId),
      this.#projectsKey,
      e.userId,
      memberOf(e),
      String(t),
      String(t + this.ttlMs),
      e.projectId,
    );
    return first === 1;
  }

  async leave(e: PresenceEntry): Promise<boolean> {
    const last = await this.redis.eval(
      LEAVE,
      2,
      this.#key(e.projectId),
      this.#projectsKey,
      e.userId,
      memberOf(e),
      String(this.now()),
      e.projectId,
    );
    return last === 1;
  }

  async online(projectId: string): Promise<string[]> {
    const members = await this.redis.zrangebyscore(this.#key(projectId), `(${this.now()}`, '+inf');
    return [...new Set(members.map(userOf))];
  }

  heartbeat(entries: PresenceEntry[]): Promise<PresenceChange[]> {
    return rejoinAll(this, entries);
  }

  async reap(): Promise<PresenceChange[]> {
    const projects = await this.redis.smembers(this.#projectsKey);
    const left: PresenceChange[] = [];
    for (const projectId of projects) {
      const users = (await this.redis.eval(
        REAP,
        2,
        this.#key(projectId),
        this.#projectsKey,
        String(this.now()),
        projectId,
      )) as string[];
      for (const userId of users) left.push({ projectId, userId });
    }
    return left;
  }
}
