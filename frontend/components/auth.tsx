'use client';
/**
 * Who is signed in. The access token lives in memory only (lib/api.ts); on a fresh page load the
 * refresh cookie is traded for a new one, so a reload keeps the session.
 */
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import { usePathname, useRouter } from 'next/navigation';
import type { UserDTO } from '@collabflow/shared';
import { auth } from '@/lib/api';

export type AuthStatus = 'loading' | 'signed-in' | 'signed-out';

interface AuthValue {
  status: AuthStatus;
  user: UserDTO | null;
}

const AuthContext = createContext<AuthValue>({ status: 'loading', user: null });

export function AuthProvider({ children }: { children: ReactNode }) {
  const session = useSyncExternalStore(
    (cb) => auth.subscribe(cb),
    () => auth.current,
    () => null,
  );
  const [restored, setRestored] = useState(false);
  useEffect(() => {
    let live = true;
    void auth.refresh().finally(() => {
      if (live) setRestored(true);
    });
    return () => {
      live = false;
    };
  }, []);
  const status: AuthStatus = session ? 'signed-in' : restored ? 'signed-out' : 'loading';
  return (
    <AuthContext.Provider value={{ status, user: session?.user ?? null }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthValue {
  return useContext(AuthContext);
}

/** Renders its children for a signed-in person; sends anyone else to the login page. */
export function RequireAuth({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  const { status } = useAuth();
  const router = useRouter();
  const pathname = usePathname();
  useEffect(() => {
    if (status === 'signed-out') router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [status, router, pathname]);
  return status === 'signed-in' ? <>{children}</> : <>{fallback}</>;
}
