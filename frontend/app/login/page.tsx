'use client';
/**
 * Log in with email and password. After success (or when already signed in) the page goes to
 * `?next=` when that is a path on this site, otherwise to your projects.
 */
import { Suspense, useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useAuth } from '@/components/auth';
import { TextField } from '@/components/Field';
import { AuthCardSkeleton } from '@/components/Skeletons';
import { describeError, login } from '@/lib/api';

const DEMO_ACCOUNTS = [
  { name: 'Alice', email: 'alice@demo.collabflow.test' },
  { name: 'Bob', email: 'bob@demo.collabflow.test' },
  { name: 'Carol', email: 'carol@demo.collabflow.test' },
];
const DEMO_PASSWORD = 'collabflow-demo';

/** A path on this site, never another origin (`//evil.example`, `/\evil.example`). */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return '/projects';
  }
  return next;
}

function LoginForm() {
  const { status } = useAuth();
  const router = useRouter();
  const params = useSearchParams();
  const target = safeNext(params.get('next'));
  const registerHref =
    target === '/projects' ? '/register' : `/register?next=${encodeURIComponent(target)}`;

  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (status === 'signed-in') router.replace(target);
  }, [status, router, target]);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      router.replace(target);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  function fillDemo(address: string) {
    setEmail(address);
    setPassword(DEMO_PASSWORD);
    setError(null);
  }

  // Both fields are described by the one message under them.
  const invalid = error
    ? ({ 'aria-invalid': true, 'aria-describedby': 'login-error' } as const)
    : {};

  return (
    <main className="auth-page">
      <div className="auth-card card-surface stack">
        <h1>Log in to CollabFlow</h1>
        <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            inputMode="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            {...invalid}
            required
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            {...invalid}
            required
          />
          {error && (
            <p id="login-error" className="alert alert-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy || status === 'loading'}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <p className="small">
          New here? <Link href={registerHref}>Create an account</Link>
        </p>
        <section className="alert alert-info stack" aria-labelledby="demo-heading">
          <h2 id="demo-heading" className="small">
            Demo workspace
          </h2>
          <p className="small" style={{ margin: 0 }}>
            Try CollabFlow with a demo account (password <code>{DEMO_PASSWORD}</code>). Open two
            browsers as two people to see changes arrive live.
          </p>
          <ul className="stack small" style={{ margin: 0, paddingLeft: 0, listStyle: 'none' }}>
            {DEMO_ACCOUNTS.map((a) => (
              <li key={a.email} className="row" style={{ flexWrap: 'wrap' }}>
                <code style={{ wordBreak: 'break-all', fontSize: 'var(--text-xs)' }}>
                  {a.email}
                </code>
                <span className="spacer" />
                <button type="button" className="btn btn-small" onClick={() => fillDemo(a.email)}>
                  Fill in {a.name}
                </button>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </main>
  );
}

export default function LoginPage() {
  return (
    <Suspense fallback={<AuthCardSkeleton />}>
      <LoginForm />
    </Suspense>
  );
}
