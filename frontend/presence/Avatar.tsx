import type { PublicUserDTO } from '@collabflow/shared';
import { avatarColor, initials } from './avatar';

export function Avatar({
  user,
  size = 'md',
  title,
}: {
  user: Pick<PublicUserDTO, 'id' | 'name'> & { avatarColor?: string };
  size?: 'sm' | 'md';
  title?: string;
}) {
  return (
    <span
      className={size === 'sm' ? 'avatar avatar-sm' : 'avatar'}
      style={{ background: avatarColor(user) }}
      title={title ?? user.name}
      aria-hidden="true"
    >
      {size === 'sm' ? initials(user.name).charAt(0) : initials(user.name)}
    </span>
  );
}
