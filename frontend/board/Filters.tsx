'use client';
/** Filters by text, assignee and priority, kept in the URL (?q=&assignee=&priority=). */
import { useEffect, useState } from 'react';
import { TASK_PRIORITIES, type MemberDTO, type TaskPriority } from '@collabflow/shared';
import type { BoardFilter } from './board-store';
import { PRIORITY_LABELS } from './labels';
import styles from './filters.module.css';

export function filterFromParams(params: URLSearchParams): BoardFilter {
  const priority = params.get('priority');
  return {
    text: params.get('q') ?? '',
    assignee: params.get('assignee') || null,
    priority: (TASK_PRIORITIES as readonly string[]).includes(priority ?? '')
      ? (priority as TaskPriority)
      : null,
  };
}

export function paramsWithFilter(params: URLSearchParams, f: BoardFilter): string {
  const next = new URLSearchParams(params);
  const put = (k: string, v: string | null) => (v ? next.set(k, v) : next.delete(k));
  put('q', f.text.trim() || null);
  put('assignee', f.assignee);
  put('priority', f.priority);
  const s = next.toString();
  return s ? `?${s}` : '';
}

export function Filters({
  filter,
  members,
  onChange,
}: {
  filter: BoardFilter;
  members: MemberDTO[];
  onChange: (f: BoardFilter) => void;
}) {
  const [text, setText] = useState(filter.text);
  useEffect(() => setText(filter.text), [filter.text]);
  // Typing updates the URL after a short pause, not at every key.
  useEffect(() => {
    if (text === filter.text) return;
    const t = setTimeout(() => onChange({ ...filter, text }), 250);
    return () => clearTimeout(t);
  }, [text, filter, onChange]);
  const active = filter.text || filter.assignee || filter.priority;
  return (
    <form className={styles.filters} role="search" onSubmit={(e) => e.preventDefault()}>
      <label className={styles.search}>
        <span className="sr-only">Search cards</span>
        <input
          className="input"
          type="search"
          placeholder="Search cards"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <label className={styles.select}>
        <span className="sr-only">Filter by assignee</span>
        <select
          className="select"
          value={filter.assignee ?? ''}
          onChange={(e) => onChange({ ...filter, assignee: e.target.value || null })}
        >
          <option value="">Anyone</option>
          <option value="none">Unassigned</option>
          {members
            .filter((m) => m.user)
            .map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.user!.name}
              </option>
            ))}
        </select>
      </label>
      <label className={styles.select}>
        <span className="sr-only">Filter by priority</span>
        <select
          className="select"
          value={filter.priority ?? ''}
          onChange={(e) =>
            onChange({ ...filter, priority: (e.target.value || null) as TaskPriority | null })
          }
        >
          <option value="">Any priority</option>
          {TASK_PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABELS[p]}
            </option>
          ))}
        </select>
      </label>
      {active && (
        <button
          type="button"
          className="btn btn-ghost btn-small"
          onClick={() => {
            setText('');
            onChange({ text: '', assignee: null, priority: null });
          }}
        >
          Clear filters
        </button>
      )}
    </form>
  );
}
