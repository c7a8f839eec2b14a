'use client';
/**
 * Create an account: name, email, password (8 characters or more), checked here with the same
 * schema the server uses, so a mistake is named under its field before anything is sent.
 */
import { Suspense, useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { LIMITS, registerBody } from '@collabflow/shared';
import { useAuth } from '@/components/auth';
import { fieldErrors, TextField } from '@/components/Field';
import { AuthCardSkeleton } from '@/components/Skeletons';
import { ApiError, describeError, register } from '@/lib/api';

type Field = 'name' | 'email' | 'password';
const FIELDS: Field[] = ['name', 'email', 'password'];
const LABELS: Record<Field, string> = { name: 'Name', email: 'Email', password: 'Password' };

function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return '/projects';
  }
  return next;
}

function RegisterForm() {
  const { status } = useAuth();
  const router = useRouter();
  const params = useSearchParams();
  const target = safeNext(params.get('next'));
  const loginHref = target === '/projects' ? '/login' : `/login?next=${encodeURIComponent(target)}`;

  const [values, setValues] = useState<Record<Field, string>>({
    name: '',
    email: '',
    password: '',
  });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputs = useRef<Partial<Record<Field, HTMLInputElement | null>>>({});

  useEffect(() => {
    if (status === 'signed-in') router.replace(target);
  }, [status, router, target]);

  function showErrors(next: Partial<Record<Field, string>>) {
    setErrors(next);
    const first = FIELDS.find((f) => next[f]);
    if (first) inputs.current[first]?.focus();
  }

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFormError(null);
    const parsed = registerBody.safeParse(values);
    if (!parsed.success) {
      showErrors(fieldErrors(parsed.error.issues, LABELS));
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await register(parsed.data.name, parsed.data.email, parsed.data.password);
      router.replace(target);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.code === 'email_taken') {
        showErrors({ email: 'An account with that email already exists. Log in instead.' });
      } else if (err instanceof ApiError && err.code === 'validation_failed') {
        const details = Array.isArray(err.details) ? (err.details as { path?: unknown }[]) : [];
        const mapped = fieldErrors(
          details.map((d) => ({
            path: String(d.path ?? '').split('.'),
            message: String((d as { message?: unknown }).message ?? 'is not valid'),
          })),
          LABELS,
        );
        if (Object.keys(mapped).length > 0) showErrors(mapped);
        else setFormError(describeError(err));
      } else {
        setFormError(describeError(err));
      }
    }
  }

  function field(key: Field, type: string, autoComplete: string, hint?: string) {
    return (
      <TextField
        ref={(el) => {
          inputs.current[key] = el;
        }}
        id={`register-${key}`}
        label={LABELS[key]}
        hint={hint}
        error={errors[key]}
        type={type}
        name={key}
        autoComplete={autoComplete}
        value={values[key]}
        maxLength={key === 'password' ? LIMITS.passwordMax : undefined}
        onChange={(e) => {
          const value = e.target.value;
          setValues((v) => ({ ...v, [key]: value }));
          if (errors[key]) setErrors((errs) => ({ ...errs, [key]: undefined }));
        }}
        required
      />
    );
  }

  return (
    <main className="auth-page">
      <div className="auth-card card-surface stack">
        <h1>Create your account</h1>
        <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
          {field('name', 'text', 'name')}
          {field('email', 'email', 'email')}
          {field(
            'password',
            'password',
            'new-password',
            `At least ${LIMITS.passwordMin} characters.`,
          )}
          {formError && (
            <p className="alert alert-error" role="alert">
              {formError}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy || status === 'loading'}>
            {busy ? 'Creating account…' : 'Create account'}
          </button>
        </form>
        <p className="small">
          Already have an account? <Link href={loginHref}>Log in</Link>
        </p>
      </div>
    </main>
  );
}

export default function RegisterPage() {
  return (
    <Suspense fallback={<AuthCardSkeleton />}>
      <RegisterForm />
    </Suspense>
  );
}
