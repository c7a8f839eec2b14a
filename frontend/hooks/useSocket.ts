'use client';
/**
 * The web app's way to the real-time layer: connects when someone is signed in, typed `on` that
 * removes exactly the listener it added, `emitWithAck` with a timeout and typed results (a
 * refusal becomes an ApiError with the server's code), and join/leave for project rooms.
 */
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type {
  Ack,
  ClientToServerEvents,
  JoinProjectResult,
  ServerToClientEvents,
} from '@collabflow/shared';
import { ApiError, auth } from '@/lib/api';
import {
  connectionState,
  getSocket,
  onConnectionState,
  type AppSocket,
  type ConnectionState,
} from '@/lib/socket';

/** What the acknowledgement of a client event carries when it succeeds. */
export type AckData<E extends keyof ClientToServerEvents> = Parameters<
  ClientToServerEvents[E]
>[1] extends (answer: Ack<infer T>) => void
  ? T
  : never;

export const ACK_TIMEOUT_MS = 10_000;

/** Sends one client event and waits for its acknowledgement; throws ApiError on refusal. */
export async function emitWithAck<E extends keyof ClientToServerEvents>(
  socket: AppSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
  timeoutMs = ACK_TIMEOUT_MS,
): Promise<AckData<E>> {
  if (!socket.connected) throw new ApiError(0, 'network', 'You are offline');
  let answer: Ack<AckData<E>>;
  try {
    // The typed overloads of emitWithAck do not follow a generic event name; the call is the same.
    const withTimeout = socket.timeout(timeoutMs) as unknown as {
      emitWithAck(e: E, p: unknown): Promise<Ack<AckData<E>>>;
    };
    answer = await withTimeout.emitWithAck(event, payload);
  } catch {
    throw new ApiError(0, 'timeout', 'The server did not answer in time');
  }
  if (!answer.ok) {
    const status =
      answer.error.code === 'forbidden' ? 403 : answer.error.code === 'not_found' ? 404 : 400;
    throw new ApiError(status, answer.error.code, answer.error.message, answer.error.details);
  }
  return answer.data;
}

function useSession() {
  return useSyncExternalStore(
    (cb) => auth.subscribe(cb),
    () => auth.current,
    () => null,
  );
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    onConnectionState,
    connectionState,
    () => ({ kind: 'idle' }) as const,
  );
}

export interface UseSocket {
  socket: AppSocket | null;
  state: ConnectionState;
  emitWithAck: <E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
    timeoutMs?: number,
  ) => Promise<AckData<E>>;
  joinProject: (projectId: string, sinceSeq?: number) => Promise<JoinProjectResult>;
  leaveProject: (projectId: string) => Promise<void>;
}

export function useSocket(): UseSocket {
  const session = useSession();
  const state = useConnectionState();
  const socket = useMemo(() => (session ? getSocket() : null), [session]);

  const emit = useCallback(
    <E extends keyof ClientToServerEvents>(
      event: E,
      payload: Parameters<ClientToServerEvents[E]>[0],
      timeoutMs?: number,
    ) => {
      if (!socket) return Promise.reject(new ApiError(401, 'unauthorized', 'Not signed in'));
      return emitWithAck(socket, event, payload, timeoutMs);
    },
    [socket],
  );
  const joinProject = useCallback(
    (projectId: string, sinceSeq?: number) =>
      emit('join:project', sinceSeq === undefined ? { projectId } : { projectId, sinceSeq }),
    [emit],
  );
  const leaveProject = useCallback(
    async (projectId: string) => {
      await emit('leave:project', projectId);
    },
    [emit],
  );
  return { socket, state, emitWithAck: emit, joinProject, leaveProject };
}

/**
 * Listens to one server event while the component is mounted; the handler may change between
 * renders without re-subscribing, and exactly this listener is removed on unmount.
 */
export function useSocketEvent<E extends keyof ServerToClientEvents>(
  socket: AppSocket | null,
  event: E,
  handler: ServerToClientEvents[E],
): void {
  const ref = useRef(handler);
  useEffect(() => {
    ref.current = handler;
  });
  useEffect(() => {
    if (!socket) return;
    const listener = ((...args: Parameters<ServerToClientEvents[E]>) =>
      (ref.current as (...a: unknown[]) => void)(...args)) as unknown as ServerToClientEvents[E];
    const s = socket as unknown as {
      on(e: string, l: unknown): void;
      off(e: string, l: unknown): void;
    };
    s.on(event, listener);
    return () => s.off(event, listener);
  }, [socket, event]);
}
