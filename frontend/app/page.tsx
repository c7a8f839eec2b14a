'use client';
import { useEffect } from 'react';
import { useRouter } from 'next/navigation';
import { useAuth } from '@/components/auth';

/** The front door: your projects when signed in, the login page otherwise. */
export default function Home() {
  const { status } = useAuth();
  const router = useRouter();
  useEffect(() => {
    if (status === 'signed-in') router.replace('/projects');
    if (status === 'signed-out') router.replace('/login');
  }, [status, router]);
  return (
    <main className="auth-page" aria-busy="true">
      <p className="muted">Loading CollabFlow…</p>
    </main>
  );
}
