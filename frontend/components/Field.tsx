/**
 * Labelled form controls: a visible label tied to its control, an optional hint and an optional
 * error sentence under the control. The control is described by the hint and the error, and is
 * marked invalid while there is an error. Every other prop (value, onChange, ref, type,
 * required, aria-describedby for a message placed elsewhere…) goes straight to the control.
 *
 * The id is `id` when given, otherwise one from useId; the hint is `<id>-hint` and the error
 * `<id>-error`.
 */
import { useId } from 'react';
import type { AriaAttributes, ComponentPropsWithRef, ReactNode } from 'react';

interface FieldProps {
  /** The visible label, which is also the control's accessible name. */
  label: ReactNode;
  /** What is wrong with the value, shown under the control. */
  error?: string | null;
  /** What the value should be, shown under the control. */
  hint?: ReactNode;
}

export type TextFieldProps = FieldProps & ComponentPropsWithRef<'input'>;
export type TextAreaFieldProps = FieldProps & ComponentPropsWithRef<'textarea'>;
export type SelectFieldProps = FieldProps & ComponentPropsWithRef<'select'>;

interface ControlA11y {
  id?: string;
  'aria-invalid'?: AriaAttributes['aria-invalid'];
  'aria-describedby'?: string;
}

/** The control's id and ARIA attributes, and the ids of its hint and error. */
function useFieldIds(
  { id, 'aria-invalid': invalid, 'aria-describedby': describedBy }: ControlA11y,
  { hint, error }: Pick<FieldProps, 'hint' | 'error'>,
) {
  const generated = useId();
  const controlId = id ?? generated;
  const hintId = hint ? `${controlId}-hint` : undefined;
  const errorId = error ? `${controlId}-error` : undefined;
  return {
    hintId,
    errorId,
    control: {
      id: controlId,
      'aria-invalid': invalid ?? (error ? true : undefined),
      'aria-describedby': [describedBy, hintId, errorId].filter(Boolean).join(' ') || undefined,
    },
  };
}

function FieldShell({
  label,
  hint,
  error,
  ids,
  children,
}: FieldProps & { ids: ReturnType<typeof useFieldIds>; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={ids.control.id}>{label}</label>
      {children}
      {hint && (
        <span id={ids.hintId} className="small muted" style={{ fontWeight: 400 }}>
          {hint}
        </span>
      )}
      {error && (
        <span id={ids.errorId} className="field-error small">
          {error}
        </span>
      )}
    </div>
  );
}

function classes(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}

export function TextField({ label, error, hint, className, ...input }: TextFieldProps) {
  const ids = useFieldIds(input, { hint, error });
  return (
    <FieldShell label={label} hint={hint} error={error} ids={ids}>
      <input {...input} {...ids.control} className={classes('input', className)} />
    </FieldShell>
  );
}

export function TextAreaField({ label, error, hint, className, ...textarea }: TextAreaFieldProps) {
  const ids = useFieldIds(textarea, { hint, error });
  return (
    <FieldShell label={label} hint={hint} error={error} ids={ids}>
      <textarea {...textarea} {...ids.control} className={classes('textarea', className)} />
    </FieldShell>
  );
}

export function SelectField({ label, error, hint, className, ...select }: SelectFieldProps) {
  const ids = useFieldIds(select, { hint, error });
  return (
    <FieldShell label={label} hint={hint} error={error} ids={ids}>
      <select {...select} {...ids.control} className={classes('select', className)} />
    </FieldShell>
  );
}

/** A schema issue as zod reports it, or as the server's `validation_failed` details carry it. */
export interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  maximum?: unknown;
}

/**
 * One sentence per labelled field from schema issues, to show as that field's `error` (the first
 * issue of each field wins; issues of fields without a label are left out). An `email` field
 * that is not too long is asked for in the expected form.
 */
export function fieldErrors<K extends string>(
  issues: readonly SchemaIssue[],
  labels: Record<K, string>,
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const issue of issues) {
    const key = String(issue.path[0] ?? '');
    if (!Object.hasOwn(labels, key) || out[key as K]) continue;
    const label = labels[key as K];
    let sentence: string;
    if (key === 'email' && issue.code !== 'too_big') {
      sentence = 'Enter an email address, like name@example.com.';
    } else if (issue.code === 'too_big' && typeof issue.maximum !== 'undefined') {
      sentence = `${label} must be at most ${String(issue.maximum)} characters.`;
    } else if (/^must /.test(issue.message)) {
      sentence = `${label} ${issue.message}.`;
    } else {
      sentence = `${label}: ${issue.message}`;
    }
    out[key as K] = sentence;
  }
  return out;
}
