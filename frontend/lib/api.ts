/**
 * The REST client: relative URLs (one origin behind nginx), the access token kept in memory
 * only, refreshed from the httpOnly refresh cookie shortly before it expires and once more after
 * a 401. Every failure becomes an ApiError with the server's code and a sentence a person can read.
 */
import type { ApiErrorBody, UserDTO } from '@collabflow/shared';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Plain words for the codes a person can run into. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'network':
        return 'Cannot reach the server. Check your connection and try again.';
      case 'version_conflict':
        return 'Someone else changed this card first. It now shows their version.';
      case 'forbidden':
        return 'You do not have permission to do that in this project.';
      case 'not_found':
        return 'That no longer exists, or you no longer have access to it.';
      case 'rate_limited':
        return 'Too many requests. Wait a moment and try again.';
      case 'invalid_credentials':
        return 'That email and password do not match an account.';
      case 'unavailable':
        return 'Changes cannot be saved right now (the server is restarting or lost its realtime store). Try again in a moment.';
      case 'overloaded': {
        const ms = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
        const wait =
          typeof ms === 'number' ? ` in ${Math.max(1, Math.ceil(ms / 1000))} s` : ' in a moment';
        return `Too many changes are arriving in this project right now. Try again${wait}.`;
      }
      case 'timeout':
        return 'The server did not answer in time. Try again.';
      default:
        return err.message || 'Something went wrong.';
    }
  }
  return err instanceof Error ? err.message : 'Something went wrong.';
}

export interface Session {
  user: UserDTO;
  token: string;
}

type Listener = (session: Session | null) => void;

/** Seconds left before a JWT's `exp`, read from its payload (the signature is the server's job). */
export function tokenSecondsLeft(token: string, now = Date.now()): number {
  const part = token.split('.')[1];
  if (!part) return 0;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp - now / 1000 : 0;
  } catch {
    return 0;
  }
}

const REFRESH_MARGIN_S = 60;

class AuthClient {
  private session: Session | null = null;
  private listeners = new Set<Listener>();
  private refreshing: Promise<Session | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  get current(): Session | null {
    return this.session;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(session: Session | null): void {
    this.session = session;
    clearTimeout(this.timer);
    if (session) {
      const left = tokenSecondsLeft(session.token);
      const wait = Math.max(5, left - Math.min(REFRESH_MARGIN_S, left / 2)) * 1000;
      this.timer = setTimeout(() => void this.refresh(), Math.min(wait, 2 ** 31 - 1));
    }
    for (const l of this.listeners) l(session);
  }

  /** A new access token from the refresh cookie; null (and signed out) when there is none. */
  refresh(): Promise<Session | null> {
    this.refreshing ??= (async () => {
      try {
        const res = await fetch('/api/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
        });
        if (!res.ok) {
          // A network failure keeps the session (the socket layer shows offline); a refusal ends it.
          if (res.status === 401 || res.status === 403) this.set(null);
          return res.status === 401 || res.status === 403 ? null : this.session;
        }
        const body = (await res.json()) as Session;
        this.set(body);
        return body;
      } catch {
        return this.session;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

export const auth = new AuthClient();

async function readError(res: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | undefined;
  try {
    body = (await res.json()) as Partial<ApiErrorBody>;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  return new ApiError(
    res.status,
    e?.code ?? `http_${res.status}`,
    e?.message ?? `The server answered ${res.status}`,
    e?.details,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Send without the access token (login, register). */
  anonymous?: boolean;
}

/** One REST call; retries once with a fresh token after a 401. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const send = async (token: string | undefined) => {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await fetch(path, {
        method: opts.method ?? 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new ApiError(0, 'network', 'Cannot reach the server');
    }
  };
  let res = await send(opts.anonymous ? undefined : auth.current?.token);
  if (res.status === 401 && !opts.anonymous) {
    const fresh = await auth.refresh();
    if (fresh) res = await send(fresh.token);
  }
  if (!res.ok) throw await readError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function login(email: string, password: string): Promise<Session> {
  const s = await api<Session>('/api/auth/login', {
    method: 'POST',
    body: { email, password },
    anonymous: true,
  });
  auth.set(s);
  return s;
}

export async function register(name: string, email: string, password: string): Promise<Session> {
  const s = await api<Session>('/api/auth/register', {
    method: 'POST',
    body: { name, email, password },
    anonymous: true,
  });
  auth.set(s);
  return s;
}

export async function logout(): Promise<void> {
  try {
    await api<void>('/api/auth/logout', { method: 'POST', anonymous: true });
  } finally {
    auth.set(null);
  }
}
