import { isIP } from 'node:net';
import { z } from 'zod';

/** The JWT secret shipped in .env.example; a production start with it refuses to run. */
export const EXAMPLE_JWT_SECRET = 'change-me-in-production-at-least-32-characters';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 900s, 15m, 12h or 30d')
  .transform(parseDuration);

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

/**
 * Express's "trust proxy" setting, typed: `true`/`false`, a hop count (how many proxies in front
 * of the app to believe, nearest first), or a list of trusted proxy addresses, subnets and the
 * names Express knows (`loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustProxy = boolean | number | string[];

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** One entry of a TRUST_PROXY list: a name, an address, `address/prefix` or `IPv4/netmask`. */
function trustProxyEntryProblem(entry: string): string | undefined {
  if (TRUST_PROXY_NAMES.has(entry)) return undefined;
  const slash = entry.lastIndexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0)
    return `"${entry}" is not an address, a subnet or loopback/linklocal/uniquelocal`;
  if (slash === -1) return undefined;
  const range = entry.slice(slash + 1);
  if (/^\d{1,3}$/.test(range) && Number(range) <= (family === 4 ? 32 : 128)) return undefined;
  if (family === 4 && isIP(range) === 4) return undefined;
  return `"${entry}" has a bad prefix length or netmask`;
}

/**
 * Parses TRUST_PROXY into what Express expects. Given the raw string, Express would read `1` as
 * the address 0.0.0.1 and throw at start on `true`; here they become a hop count and a boolean.
 */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim();
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new Error('a hop count must be at most 100');
    return hops;
  }
  const entries = value.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new Error('has an empty entry in its list');
  for (const entry of entries) {
    const problem = trustProxyEntryProblem(entry);
    if (problem) throw new Error(problem);
  }
  return entries;
}

const trustProxy = z.string().transform((text, ctx): TrustProxy => {
  try {
    return parseTrustProxy(text);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `must be true, false, a hop count, or a comma-separated list of addresses, subnets and loopback/linklocal/uniquelocal: ${(err as Error).message}`,
    });
    return z.NEVER;
  }
});

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: int(4000, 0, 65535),
    INSTANCE_ID: z.string().min(1).max(64).optional(),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .default('mongodb://127.0.0.1:27017/collabflow'),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional()
      .or(z.literal('').transform(() => undefined)),
    REDIS_TLS_CA_FILE: z.string().min(1).optional(),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(EXAMPLE_JWT_SECRET),
    JWT_ACCESS_TTL: duration.default(15 * 60_000),
    REFRESH_TOKEN_TTL: duration.default(30 * 86_400_000),
    PASSWORD_HASH_COST: int(15, 10, 20),
    CORS_ORIGINS: z
      .string()
      .default('http://localhost:3000,http://127.0.0.1:3000')
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'must be a size such as 100kb or 1mb')
      .default('100kb'),
    TRUST_PROXY: trustProxy.default(['loopback']),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    RATE_LIMIT_API_POINTS: int(600, 1),
    RATE_LIMIT_API_WINDOW: duration.default(60_000),
    RATE_LIMIT_LOGIN_PER_EMAIL: int(10, 1),
    RATE_LIMIT_LOGIN_PER_IP: int(50, 1),
    RATE_LIMIT_LOGIN_WINDOW: duration.default(15 * 60_000),
    RATE_LIMIT_SOCKET_MUTATIONS: int(30, 1),
    RATE_LIMIT_SOCKET_CHAT: int(10, 1),
    RATE_LIMIT_SOCKET_TYPING: int(5, 1),
    RATE_LIMIT_SOCKET_HANDSHAKES: int(60, 1),
    RATE_LIMIT_SOCKET_HANDSHAKE_WINDOW: duration.default(60_000),
    MAX_SOCKETS_PER_USER: int(20, 1),
    MAX_SSE_PER_USER: int(5, 1),
    ACCESS_RECHECK_INTERVAL: duration.default(30_000),
    SOCKET_MAX_PAYLOAD: int(100_000, 1000),
    EVENT_LOG_SIZE: int(500, 10, 100_000),
    // The project write path (projects/write-path.ts, [W1]-[W6] in docs/protocol.md).
    WRITE_QUEUE_LIMIT: int(200, 1, 100_000),
    WRITE_LOCK_TTL: duration.default(5_000),
    WRITE_LOCK_WAIT: duration.default(3_000),
    OUTBOX_SWEEP: duration.default(5_000),
    /** Tests only: `die-after-write:<event type>` (see projects/write-path.ts). */
    FAILPOINT: z
      .string()
      .regex(/^die-after-write:[a-z]+:[a-zA-Z]+$/)
      .optional(),
    PRESENCE_TTL: duration.default(15_000),
    PRESENCE_HEARTBEAT: duration.default(5_000),
    SHUTDOWN_TIMEOUT: duration.default(10_000),
    SEED_DEMO: bool.default(false),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && c.JWT_SECRET === EXAMPLE_JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is the example secret from .env.example; set a secret of your own in production',
      });
    }
    if (c.NODE_ENV === 'production' && c.SEED_DEMO) {
      ctx.addIssue({
        code: 'custom',
        path: ['SEED_DEMO'],
        message:
          'creates demo accounts with a published password; it is refused in production (use NODE_ENV=development for a demo)',
      });
    }
    if (c.NODE_ENV === 'production' && c.FAILPOINT) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAILPOINT'],
        message: 'is a fault injection for tests and is refused in production',
      });
    }
    if (c.PRESENCE_HEARTBEAT >= c.PRESENCE_TTL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PRESENCE_HEARTBEAT'],
        message: 'must be shorter than PRESENCE_TTL',
      });
    }
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment; throws one ConfigError whose message names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  if (env.REDIS_URL === '') present.REDIS_URL = '';
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = i.path.join('.') || 'environment';
      return `${key} ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}
