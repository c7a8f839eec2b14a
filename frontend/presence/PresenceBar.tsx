'use client';
import type { PublicUserDTO } from '@collabflow/shared';
import { Avatar } from './Avatar';
import styles from './presence.module.css';

const MAX_SHOWN = 5;

/** Who is in this project right now: one avatar per person, however many tabs they have. */
export function PresenceBar({ users, meId }: { users: PublicUserDTO[]; meId: string }) {
  const sorted = [...users].sort((a, b) =>
    a.id === meId ? -1 : b.id === meId ? 1 : a.name.localeCompare(b.name),
  );
  const shown = sorted.slice(0, MAX_SHOWN);
  const more = sorted.length - shown.length;
  const names = sorted.map((u) => (u.id === meId ? `${u.name} (you)` : u.name)).join(', ');
  return (
    <div
      className={styles.bar}
      role="group"
      aria-label={`Online now: ${names || 'nobody'}`}
      data-testid="presence"
    >
      <ul className={styles.list}>
        {shown.map((u) => (
          <li key={u.id} data-user-id={u.id} className={styles.item}>
            <Avatar user={u} title={u.id === meId ? `${u.name} (you)` : `${u.name} is online`} />
          </li>
        ))}
      </ul>
      {more > 0 && <span className={styles.more}>+{more}</span>}
    </div>
  );
}
