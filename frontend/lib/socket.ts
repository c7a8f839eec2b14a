/**
 * One Socket.IO client per tab. The access token travels in `auth` (read at every connection
 * attempt, so a reconnect uses the freshest token), WebSocket first with long-polling as the
 * fallback, same origin as the page (nginx routes /socket.io to the replicas).
 *
 * Connection state is a tagged union the UI shows as a banner; an expired or refused token is
 * refreshed once and the socket connects again without the page reloading.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@collabflow/shared';
import { auth } from './api';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'connected'; since: number }
  | { kind: 'reconnecting'; attempt: number; reason: string }
  | { kind: 'offline' };

type StateListener = (state: ConnectionState) => void;

let socket: AppSocket | null = null;
let state: ConnectionState = { kind: 'idle' };
const listeners = new Set<StateListener>();

function setState(next: ConnectionState) {
  state = next;
  for (const l of listeners) l(next);
}

export function connectionState(): ConnectionState {
  return state;
}

export function onConnectionState(listener: StateListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function refreshAndReconnect(s: AppSocket) {
  const fresh = await auth.refresh();
  if (fresh && socket === s) s.connect();
  else if (!fresh) setState({ kind: 'idle' });
}

function create(): AppSocket {
  const s: AppSocket = io({
    path: '/socket.io',
    transports: ['websocket', 'polling'],
    auth: (cb) => cb({ token: auth.current?.token ?? '' }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10_000,
    autoConnect: false,
  });
  s.on('connect', () => setState({ kind: 'connected', since: Date.now() }));
  s.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') return setState({ kind: 'idle' });
    setState(navigator.onLine ? { kind: 'reconnecting', attempt: 0, reason } : { kind: 'offline' });
    // The server ends a session on purpose (token expired): refresh, then connect again.
    if (reason === 'io server disconnect') void refreshAndReconnect(s);
  });
  s.io.on('reconnect_attempt', (attempt) =>
    setState(
      navigator.onLine
        ? { kind: 'reconnecting', attempt, reason: 'connection lost' }
        : { kind: 'offline' },
    ),
  );
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    const code = err.data?.code;
    if (code === 'token_expired' || code === 'unauthorized') {
      // Middleware refusals are not retried by socket.io-client: refresh the token and retry.
      setState({ kind: 'reconnecting', attempt: 0, reason: 'renewing the session' });
      void refreshAndReconnect(s);
      return;
    }
    if (!s.active) return setState({ kind: 'offline' });
    setState(
      navigator.onLine
        ? { kind: 'reconnecting', attempt: 0, reason: err.message }
        : { kind: 'offline' },
    );
  });
  return s;
}

/** The tab's socket, created on first use and connected when there is a session. */
export function getSocket(): AppSocket {
  socket ??= create();
  if (!socket.connected && !socket.active && auth.current) {
    setState({ kind: 'connecting' });
    socket.connect();
  }
  return socket;
}

/** Closes the tab's socket (log out). */
export function closeSocket(): void {
  socket?.disconnect();
  socket = null;
  setState({ kind: 'idle' });
}

if (typeof window !== 'undefined') {
  window.addEventListener('offline', () => {
    if (socket && state.kind !== 'idle') setState({ kind: 'offline' });
  });
  window.addEventListener('online', () => {
    if (!socket || state.kind === 'idle') return;
    if (socket.connected) setState({ kind: 'connected', since: Date.now() });
    else {
      setState({ kind: 'reconnecting', attempt: 0, reason: 'back online' });
      if (!socket.active) socket.connect();
    }
  });
}
