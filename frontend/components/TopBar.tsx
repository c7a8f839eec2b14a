'use client';
/**
 * The bar at the top of every signed-in page: the brand (home, your projects), whatever the page
 * puts in the middle (breadcrumbs, who is online), and who you are with a way to log out.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useAuth } from '@/components/auth';
import { useToast } from '@/components/toast';
import { logout } from '@/lib/api';
import { closeSocket } from '@/lib/socket';
import { Avatar } from '@/presence/Avatar';
import styles from './topbar.module.css';

export function TopBar({ children }: { children?: ReactNode }) {
  const { user } = useAuth();
  const router = useRouter();
  const toast = useToast();
  const [leaving, setLeaving] = useState(false);

  async function onLogout() {
    setLeaving(true);
    try {
      await logout();
    } catch {
      // The session is gone from this tab either way; the server may still hold the cookie.
      toast('Logged out here, but the server could not be reached to end the session.', 'error');
    } finally {
      closeSocket();
      router.replace('/login');
    }
  }

  return (
    <header className={`topbar ${styles.bar}`}>
      <Link href="/projects" className="brand">
        CollabFlow
      </Link>
      <div className={styles.middle}>{children}</div>
      {user && (
        <div className={styles.user}>
          <Avatar user={user} />
          <span className={styles.name}>
            <span className="sr-only">Signed in as </span>
            {user.name}
          </span>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => void onLogout()}
            disabled={leaving}
          >
            Log out
          </button>
        </div>
      )}
    </header>
  );
}
