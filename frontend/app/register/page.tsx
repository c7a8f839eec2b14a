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
import { AuthCardSkeleton } from '@/components/Skeletons';
import { ApiError, describeError, register } from '@/lib/api';

type Field = 'name' | 'email' | 'password';
const FIELDS: Field[] = ['name', 'email', 'password'];
const LABELS: Record<Field, string> = { name: 'Name', email: 'Email', password: 'Password' };

interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  maximum?: unknown;
}

/** One sentence per field from schema issues (the first issue of each field wins). */
function fieldErrors(issues: readonly IssueLike[]): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  for (const issue of issues) {
    const key = String(issue.path[0] ?? '') as Field;
    if (!FIELDS.includes(key) || out[key]) continue;
    const label = LABELS[key];
    if (key === 'email' && issue.code !== 'too_big') {
      out[key] = 'Enter an email address, like name@example.com.';
    } else if (issue.code === 'too_big' && typeof issue.maximum !== 'undefined') {
      out[key] = `${label} must be at most ${String(issue.maximum)} characters.`;
    } else if (/^must /.test(issue.message)) {
      out[key] = `${label} ${issue.message}.`;
    } else {
      out[key] = `${label}: ${issue.message}`;
    }
  }
  return out;
}

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
      showErrors(fieldErrors(parsed.error.issues));
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
        );
        if (Object.keys(mapped).length > 0) showErrors(mapped);
        else setFormError(describeError(err));
      } else {
        setFormError(describeError(err));
      }
    }
  }

  function field(key: Field, type: string, autoComplete: string, hint?: string) {
    const error = errors[key];
    const hintId = hint ? `register-${key}-hint` : undefined;
    const errorId = error ? `register-${key}-error` : undefined;
    const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
    return (
      <div className="field">
        <label htmlFor={`register-${key}`}>{LABELS[key]}</label>
        <input
          ref={(el) => {
            inputs.current[key] = el;
          }}
          id={`register-${key}`}
          className="input"
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
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          required
        />
        {hint && (
          <span id={hintId} className="small muted" style={{ fontWeight: 400 }}>
            {hint}
          </span>
        )}
        {error && (
          <span id={errorId} className="field-error small">
            {error}
          </span>
        )}
      </div>
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
