/**
 * @mentions by display name: the composer writes `@Alice Martin ` (names may contain spaces), and
 * rendering matches `@` + a member's full name (case-insensitive, longest name first, ending at a
 * word boundary) so a message is split into text and mention segments. Pure functions only.
 */

export interface MentionMember {
  id: string;
  name: string;
}

export type Segment =
  { kind: 'text'; text: string } | { kind: 'mention'; text: string; userId: string; me: boolean };

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const isWordChar = (ch: string | undefined): boolean => ch !== undefined && WORD_CHAR.test(ch);

/** The longest member name written right after the `@` at `at`, if any. */
function matchAt(content: string, at: number, byLength: MentionMember[]): MentionMember | null {
  for (const m of byLength) {
    const end = at + 1 + m.name.length;
    if (
      content.slice(at + 1, end).toLowerCase() === m.name.toLowerCase() &&
      !isWordChar(content[end])
    )
      return m;
  }
  return null;
}

function usable(members: MentionMember[]): MentionMember[] {
  return members
    .filter((m) => m.name.trim().length > 0)
    .sort((a, b) => b.name.length - a.name.length);
}

/** Splits a message into text and mentions of the given members. */
export function mentionSegments(
  content: string,
  members: MentionMember[],
  meId: string,
): Segment[] {
  const byLength = usable(members);
  const out: Segment[] = [];
  let textStart = 0;
  let i = 0;
  while (i < content.length) {
    const at = content.indexOf('@', i);
    if (at < 0) break;
    const m = at === 0 || !isWordChar(content[at - 1]) ? matchAt(content, at, byLength) : null;
    if (!m) {
      i = at + 1;
      continue;
    }
    if (at > textStart) out.push({ kind: 'text', text: content.slice(textStart, at) });
    const end = at + 1 + m.name.length;
    out.push({ kind: 'mention', text: content.slice(at, end), userId: m.id, me: m.id === meId });
    textStart = i = end;
  }
  if (textStart < content.length) out.push({ kind: 'text', text: content.slice(textStart) });
  return out;
}

export function mentionsUser(content: string, members: MentionMember[], userId: string): boolean {
  return mentionSegments(content, members, userId).some((s) => s.kind === 'mention' && s.me);
}

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** The caret (end of the text being completed). */
  end: number;
  query: string;
}

const MAX_QUERY = 40;

/**
 * The mention being typed at the caret: an `@` at the start or after a non-word character,
 * followed by up to 40 characters without another `@` or a line break, not starting with a space.
 */
export function findMentionQuery(text: string, caret: number): MentionQuery | null {
  if (caret <= 0) return null;
  const from = Math.max(0, caret - MAX_QUERY - 1);
  const at = text.lastIndexOf('@', caret - 1);
  if (at < from || at < 0) return null;
  if (at > 0 && isWordChar(text[at - 1])) return null;
  const query = text.slice(at + 1, caret);
  if (/[@\n]/.test(query) || query.startsWith(' ') || query.includes('  ')) return null;
  return { start: at, end: caret, query };
}

/**
 * Members whose name starts with the query, or has a word starting with it; the current user is
 * left out. Whole-name prefix matches first, then by name.
 */
export function suggestMembers<M extends MentionMember>(
  members: M[],
  query: string,
  meId: string,
  limit = 6,
): M[] {
  const q = query.toLowerCase();
  const scored: { m: M; rank: number }[] = [];
  for (const m of members) {
    if (m.id === meId || !m.name.trim()) continue;
    const name = m.name.toLowerCase();
    if (name.startsWith(q)) scored.push({ m, rank: 0 });
    else if (!q.includes(' ') && name.split(/\s+/).some((w) => w.startsWith(q)))
      scored.push({ m, rank: 1 });
  }
  return scored
    .sort((a, b) => a.rank - b.rank || a.m.name.localeCompare(b.m.name))
    .slice(0, limit)
    .map((s) => s.m);
}

/** Replaces the query with `@Name ` and says where the caret goes. */
export function insertMention(
  text: string,
  q: Pick<MentionQuery, 'start' | 'end'>,
  name: string,
): { text: string; caret: number } {
  const before = text.slice(0, q.start);
  const after = text.slice(q.end);
  const inserted = `@${name}${after.startsWith(' ') ? '' : ' '}`;
  const caret = before.length + inserted.length + (after.startsWith(' ') ? 1 : 0);
  return { text: before + inserted + after, caret };
}
