'use client';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { AppSocket } from '@/lib/socket';
import { ProjectSession } from './session';

/** Opens the project for as long as the component is mounted (one session per project). */
export function useProjectSession(
  projectId: string,
  socket: AppSocket | null,
  meId: string | undefined,
): ProjectSession | null {
  const [session, setSession] = useState<ProjectSession | null>(null);
  useEffect(() => {
    if (!socket || !meId) return;
    const s = new ProjectSession(projectId, socket, { id: meId });
    s.start();
    setSession(s);
    return () => {
      s.stop();
      setSession((cur) => (cur === s ? null : cur));
    };
  }, [projectId, socket, meId]);
  return session;
}

/** One slice of the session, re-rendering only when that slice changes. */
export function useSessionValue<T>(session: ProjectSession, pick: (s: ProjectSession) => T): T {
  return useSyncExternalStore(
    session.subscribe,
    () => pick(session),
    () => pick(session),
  );
}
