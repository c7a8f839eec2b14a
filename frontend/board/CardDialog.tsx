'use client';
/**
 * The card dialog: create a card, or read and edit one (title, description, priority, assignee,
 * due date, labels, subtasks), or delete it. Edits carry the version they started from, so a
 * change that crossed someone else's gets a clear conflict instead of overwriting it.
 */
import { useEffect, useId, useRef, useState } from 'react';
import {
  LIMITS,
  TASK_PRIORITIES,
  createTaskBody,
  taskUpdates,
  type TaskDTO,
  type TaskPriority,
  type TaskStatus,
} from '@collabflow/shared';
import { ApiError, describeError } from '@/lib/api';
import { emitWithAck } from '@/hooks/useSocket';
import type { AppSocket } from '@/lib/socket';
import { useToast } from '@/components/toast';
import type { ProjectSession } from '@/project/session';
import { useTask } from './hooks';
import { PRIORITY_LABELS, STATUS_LABELS } from './labels';
import styles from './dialog.module.css';

export type DialogTarget =
  { kind: 'create'; status: TaskStatus } | { kind: 'edit'; taskId: string };

interface Draft {
  title: string;
  description: string;
  priority: TaskPriority;
  assignee: string;
  dueDate: string;
  labels: string;
  subtasks: { title: string; done: boolean }[];
}

function draftOf(task: TaskDTO | undefined): Draft {
  return {
    title: task?.title ?? '',
    description: task?.description ?? '',
    priority: task?.priority ?? 'medium',
    assignee: task?.assignee ?? '',
    dueDate: task?.dueDate ? task.dueDate.slice(0, 10) : '',
    labels: task?.labels.join(', ') ?? '',
    subtasks: task?.subtasks.map((s) => ({ title: s.title, done: s.done })) ?? [],
  };
}

function fieldsOf(d: Draft) {
  return {
    title: d.title.trim(),
    description: d.description,
    priority: d.priority,
    assignee: d.assignee || null,
    dueDate: d.dueDate || null,
    labels: [
      ...new Set(
        d.labels
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      ),
    ],
    subtasks: d.subtasks
      .filter((s) => s.title.trim())
      .map((s) => ({ ...s, title: s.title.trim() })),
  };
}

/** Only what changed, so an edit does not rewrite fields someone else just set. */
function changes(before: Draft, after: Draft): Record<string, unknown> {
  const a = fieldsOf(before);
  const b = fieldsOf(after);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(b) as (keyof typeof b)[]) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out[k] = b[k];
  }
  return out;
}

export function CardDialog({
  session,
  socket,
  target,
  readOnly,
  onClose,
}: {
  session: ProjectSession;
  socket: AppSocket;
  target: DialogTarget;
  readOnly: boolean;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const toast = useToast();
  const task = useTask(session.board, target.kind === 'edit' ? target.taskId : '');
  const [base, setBase] = useState<TaskDTO | undefined>(task);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [newSubtask, setNewSubtask] = useState('');

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  const editing = target.kind === 'edit';
  const gone = editing && !task;
  const changedElsewhere = editing && task && base && task.version !== base.version;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));

  const save = async () => {
    setError(null);
    const fields = fieldsOf(draft);
    try {
      setBusy(true);
      if (target.kind === 'create') {
        const parsed = createTaskBody.safeParse({ ...fields, status: target.status });
        if (!parsed.success) {
          setError(parsed.error.issues[0]?.message ?? 'Check the fields');
          return;
        }
        const { task: created } = await emitWithAck(socket, 'task:create', {
          projectId: session.projectId,
          task: parsed.data,
          clientId: crypto.randomUUID(),
        });
        session.board.upsert(created);
        toast(`Card "${created.title}" added to ${STATUS_LABELS[created.status]}`);
        onClose();
        return;
      }
      if (!base) return;
      const updates = changes(draftOf(base), draft);
      if (Object.keys(updates).length === 0) return onClose();
      const parsed = taskUpdates.safeParse(updates);
      if (!parsed.success) {
        setError(parsed.error.issues[0]?.message ?? 'Check the fields');
        return;
      }
      const { task: saved } = await emitWithAck(socket, 'task:update', {
        projectId: session.projectId,
        taskId: base.id,
        updates: parsed.data,
        version: base.version,
        clientId: crypto.randomUUID(),
      });
      session.board.upsert(saved);
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'version_conflict') {
        const current = (err.details as { task?: TaskDTO } | undefined)?.task;
        if (current) session.board.upsert(current);
        setError(
          'Someone else changed this card while you were editing. Review their version below, then save again.',
        );
        setBase(current ?? task);
        setDraft(draftOf(current ?? task));
      } else setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!base) return;
    try {
      setBusy(true);
      await emitWithAck(socket, 'task:delete', {
        projectId: session.projectId,
        taskId: base.id,
        clientId: crypto.randomUUID(),
      });
      session.board.remove(base.id);
      toast(`Card "${base.title}" deleted`);
      onClose();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const members = session.members.filter((m) => m.user);
  return (
    <dialog
      ref={ref}
      className={styles.dialog}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={onClose}
    >
      <form
        className={styles.form}
        onSubmit={(e) => {
          e.preventDefault();
          if (!readOnly) void save();
        }}
      >
        <header className={styles.header}>
          <h2 id={titleId}>
            {target.kind === 'create'
              ? `New card in ${STATUS_LABELS[target.status]}`
              : readOnly
                ? 'Card'
                : 'Edit card'}
          </h2>
          <button
            type="button"
            className="btn btn-ghost icon-btn"
            onClick={onClose}
            aria-label="Close"
          >
            ✕
          </button>
        </header>
        {gone && <p className="alert alert-warning">This card was deleted by someone else.</p>}
        {changedElsewhere && !error && (
          <p className="alert alert-info">
            Someone else just changed this card. Saving will ask you to review their version.
          </p>
        )}
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <fieldset className={styles.fields} disabled={readOnly || busy || gone}>
          <label className="field">
            Title
            <input
              className="input"
              value={draft.title}
              onChange={(e) => set('title', e.target.value)}
              maxLength={LIMITS.titleMax}
              required
              autoFocus
            />
          </label>
          <label className="field">
            Description
            <textarea
              className="textarea"
              value={draft.description}
              onChange={(e) => set('description', e.target.value)}
              maxLength={LIMITS.descriptionMax}
              rows={4}
            />
          </label>
          <div className={styles.grid}>
            <label className="field">
              Priority
              <select
                className="select"
                value={draft.priority}
                onChange={(e) => set('priority', e.target.value as TaskPriority)}
              >
                {TASK_PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {PRIORITY_LABELS[p]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              Assignee
              <select
                className="select"
                value={draft.assignee}
                onChange={(e) => set('assignee', e.target.value)}
              >
                <option value="">Nobody</option>
                {members.map((m) => (
                  <option key={m.userId} value={m.userId}>
                    {m.user!.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              Due date
              <input
                className="input"
                type="date"
                value={draft.dueDate}
                onChange={(e) => set('dueDate', e.target.value)}
              />
            </label>
          </div>
          <label className="field">
            Labels
            <input
              className="input"
              value={draft.labels}
              onChange={(e) => set('labels', e.target.value)}
              placeholder="design, backend"
              aria-describedby={`${titleId}-labels-hint`}
            />
            <span id={`${titleId}-labels-hint`} className="muted small">
              Separate labels with commas.
            </span>
          </label>
          <div className="field" role="group" aria-label="Subtasks">
            <span>
              Subtasks{' '}
              {draft.subtasks.length > 0 && (
                <span className="muted">
                  ({draft.subtasks.filter((s) => s.done).length}/{draft.subtasks.length} done)
                </span>
              )}
            </span>
            <ul className={styles.subtasks}>
              {draft.subtasks.map((s, i) => (
                <li key={i} className={styles.subtask}>
                  <input
                    type="checkbox"
                    checked={s.done}
                    aria-label={`Done: ${s.title || `subtask ${i + 1}`}`}
                    onChange={(e) =>
                      set(
                        'subtasks',
                        draft.subtasks.map((x, j) =>
                          j === i ? { ...x, done: e.target.checked } : x,
                        ),
                      )
                    }
                  />
                  <input
                    className="input"
                    value={s.title}
                    aria-label={`Subtask ${i + 1}`}
                    maxLength={LIMITS.titleMax}
                    onChange={(e) =>
                      set(
                        'subtasks',
                        draft.subtasks.map((x, j) =>
                          j === i ? { ...x, title: e.target.value } : x,
                        ),
                      )
                    }
                  />
                  {!readOnly && (
                    <button
                      type="button"
                      className="btn btn-ghost icon-btn"
                      aria-label={`Remove subtask ${s.title || i + 1}`}
                      onClick={() =>
                        set(
                          'subtasks',
                          draft.subtasks.filter((_, j) => j !== i),
                        )
                      }
                    >
                      ✕
                    </button>
                  )}
                </li>
              ))}
            </ul>
            {!readOnly && draft.subtasks.length < LIMITS.subtasksMax && (
              <div className="row">
                <input
                  className="input"
                  value={newSubtask}
                  aria-label="New subtask"
                  placeholder="Add a subtask"
                  onChange={(e) => setNewSubtask(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      if (newSubtask.trim()) {
                        set('subtasks', [
                          ...draft.subtasks,
                          { title: newSubtask.trim(), done: false },
                        ]);
                        setNewSubtask('');
                      }
                    }
                  }}
                />
                <button
                  type="button"
                  className="btn"
                  onClick={() => {
                    if (!newSubtask.trim()) return;
                    set('subtasks', [...draft.subtasks, { title: newSubtask.trim(), done: false }]);
                    setNewSubtask('');
                  }}
                >
                  Add
                </button>
              </div>
            )}
          </div>
        </fieldset>
        <footer className={styles.footer}>
          {editing && !readOnly && !gone && (
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy}
              onClick={() => (confirmDelete ? void remove() : setConfirmDelete(true))}
            >
              {confirmDelete ? 'Really delete?' : 'Delete card'}
            </button>
          )}
          <span className="spacer" />
          <button type="button" className="btn" onClick={onClose}>
            {readOnly ? 'Close' : 'Cancel'}
          </button>
          {!readOnly && !gone && (
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {target.kind === 'create' ? 'Create card' : 'Save'}
            </button>
          )}
        </footer>
      </form>
    </dialog>
  );
}
