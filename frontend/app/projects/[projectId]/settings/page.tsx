'use client';
/**
 * Project settings: name and description, the members and their roles, inviting by email,
 * leaving, and deleting the project. Owners and admins manage; everyone else reads. The server
 * decides in the end (an admin cannot touch an owner, a project keeps at least one owner), and
 * what it refuses is said here in plain words.
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import {
  addMemberBody,
  PROJECT_ROLES,
  updateProjectBody,
  type MemberDTO,
  type ProjectDTO,
  type ProjectRole,
} from '@collabflow/shared';
import { RequireAuth, useAuth } from '@/components/auth';
import { fieldErrors, SelectField, TextAreaField, TextField } from '@/components/Field';
import { SettingsPageSkeleton, SettingsSkeleton } from '@/components/Skeletons';
import { TopBar } from '@/components/TopBar';
import { useToast } from '@/components/toast';
import { api, ApiError, describeError } from '@/lib/api';
import { Avatar } from '@/presence/Avatar';
import styles from '../../settings.module.css';

const ROLE_LABEL: Record<ProjectRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
};

type Load =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; project: ProjectDTO; members: MemberDTO[] };

/** The project itself is gone for me (deleted, or I am no longer a member). */
function projectGone(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && /^project\b/i.test(err.message);
}

/** Plain words for what the member endpoints refuse. */
function memberError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'last_owner') {
      return 'A project needs at least one owner. Make someone else an owner first.';
    }
    if (err.code === 'already_member') return 'That person is already a member of this project.';
    if (err.status === 403 && /owner role/i.test(err.message)) {
      return 'Only an owner can make someone an owner or change an owner’s role.';
    }
    if (err.status === 404 && /member/i.test(err.message)) {
      return 'That person is no longer a member of this project.';
    }
  }
  return describeError(err);
}

function sortMembers(members: MemberDTO[]): MemberDTO[] {
  const rank = (r: ProjectRole) => PROJECT_ROLES.indexOf(r);
  return [...members].sort(
    (a, b) =>
      rank(a.role) - rank(b.role) ||
      (a.user?.name ?? '').localeCompare(b.user?.name ?? '', undefined, { sensitivity: 'base' }),
  );
}

function displayName(m: MemberDTO): string {
  return m.user?.name ?? 'Unknown user';
}

// ---------------------------------------------------------------- details

function DetailsForm({
  project,
  canManage,
  onSaved,
  onGone,
}: {
  project: ProjectDTO;
  canManage: boolean;
  onSaved: (p: ProjectDTO) => void;
  onGone: () => void;
}) {
  const toast = useToast();
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description);
  const [errors, setErrors] = useState<{ name?: string; description?: string }>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const descriptionRef = useRef<HTMLTextAreaElement>(null);

  if (!canManage) {
    return (
      <section className={`card-surface stack ${styles.card}`} aria-labelledby="details-heading">
        <h2 id="details-heading">Details</h2>
        <dl className={styles.readonly} style={{ margin: 0 }}>
          <dt>Name</dt>
          <dd>{project.name}</dd>
          <dt>Description</dt>
          <dd>{project.description || <span className="muted">No description.</span>}</dd>
        </dl>
        <p className="small muted" style={{ margin: 0 }}>
          Only owners and admins can change the project’s details and members.
        </p>
      </section>
    );
  }

  const changes: { name?: string; description?: string } = {};
  if (name.trim() !== project.name) changes.name = name;
  if (description !== project.description) changes.description = description;
  const dirty = Object.keys(changes).length > 0;

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFormError(null);
    if (!dirty) return;
    const parsed = updateProjectBody.safeParse(changes);
    if (!parsed.success) {
      const next = fieldErrors(parsed.error.issues, {
        name: 'Project name',
        description: 'Description',
      });
      setErrors(next);
      if (next.name) nameRef.current?.focus();
      else if (next.description) descriptionRef.current?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const { project: saved } = await api<{ project: ProjectDTO }>(`/api/projects/${project.id}`, {
        method: 'PATCH',
        body: parsed.data,
      });
      toast('Project details saved.');
      onSaved(saved);
    } catch (err) {
      if (projectGone(err)) return onGone();
      setFormError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className={`card-surface ${styles.card}`} aria-labelledby="details-heading">
      <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        <h2 id="details-heading">Details</h2>
        <TextField
          ref={nameRef}
          id="settings-name"
          label="Project name"
          error={errors.name}
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
        />
        <TextAreaField
          ref={descriptionRef}
          id="settings-description"
          label="Description"
          error={errors.description}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
        <div className="row" style={{ flexWrap: 'wrap' }}>
          <button type="submit" className="btn btn-primary" disabled={busy || !dirty}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
          {dirty && !busy && (
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setName(project.name);
                setDescription(project.description);
                setErrors({});
              }}
            >
              Discard changes
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

// ---------------------------------------------------------------- invite

function InviteForm({
  projectId,
  myRole,
  onInvited,
  onGone,
}: {
  projectId: string;
  myRole: ProjectRole;
  onInvited: (m: MemberDTO) => void;
  onGone: () => void;
}) {
  const toast = useToast();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<ProjectRole>('member');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const roles = PROJECT_ROLES.filter((r) => r !== 'owner' || myRole === 'owner');

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = addMemberBody.safeParse({ email, role });
    if (!parsed.success) {
      const emailIssue = parsed.error.issues.find((i) => i.path[0] === 'email');
      setError(emailIssue ? 'Enter an email address, like name@example.com.' : 'Choose a role.');
      emailRef.current?.focus();
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const { member } = await api<{ member: MemberDTO }>(`/api/projects/${projectId}/members`, {
        method: 'POST',
        body: parsed.data,
      });
      setEmail('');
      toast(`${displayName(member)} was added as ${ROLE_LABEL[member.role].toLowerCase()}.`);
      onInvited(member);
      emailRef.current?.focus();
    } catch (err) {
      if (projectGone(err)) return onGone();
      if (err instanceof ApiError && err.status === 404) {
        setError('No account with that email. Ask them to sign up first, then invite them.');
      } else {
        setError(memberError(err));
      }
      emailRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack"
      aria-label="Invite a member"
      onSubmit={(e) => void onSubmit(e)}
      noValidate
    >
      <div className={styles.invite}>
        <TextField
          ref={emailRef}
          id="invite-email"
          label="Invite by email"
          type="email"
          inputMode="email"
          autoComplete="off"
          placeholder="name@example.com"
          value={email}
          onChange={(e) => {
            setEmail(e.target.value);
            if (error) setError(null);
          }}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'invite-error' : undefined}
          required
        />
        <SelectField
          id="invite-role"
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as ProjectRole)}
          aria-describedby="invite-role-help"
        >
          {roles.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </SelectField>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Inviting…' : 'Invite'}
        </button>
      </div>
      {error && (
        <p id="invite-error" className="field-error small" role="alert" style={{ margin: 0 }}>
          {error}
        </p>
      )}
      <p id="invite-role-help" className="small muted" style={{ margin: 0 }}>
        Viewers read the board and chat. Members also edit cards and write messages. Admins also
        manage members. Owners can also delete the project.
      </p>
    </form>
  );
}

// ---------------------------------------------------------------- members

function MemberRow({
  member,
  me,
  myRole,
  canManage,
  projectId,
  onChanged,
  onRemoved,
  onLeft,
  onGone,
}: {
  member: MemberDTO;
  me: string;
  myRole: ProjectRole;
  canManage: boolean;
  projectId: string;
  onChanged: (m: MemberDTO) => void;
  onRemoved: (userId: string) => void;
  onLeft: () => void;
  onGone: () => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const removeRef = useRef<HTMLButtonElement>(null);
  const restoreFocus = useRef(false);
  const name = displayName(member);
  const isMe = member.userId === me;
  const errorId = `member-${member.userId}-error`;
  // Only an owner may touch an owner or hand out the owner role (the server checks it too).
  const canEditThis = canManage && (member.role !== 'owner' || myRole === 'owner');
  const mayLeave = isMe && !canManage;

  // Into the confirmation when it opens; back to the button that opened it when it closes.
  useEffect(() => {
    if (confirming) {
      cancelRef.current?.focus();
    } else if (restoreFocus.current) {
      restoreFocus.current = false;
      removeRef.current?.focus();
    }
  }, [confirming]);

  async function changeRole(role: ProjectRole) {
    if (role === member.role) return;
    setBusy(true);
    setError(null);
    try {
      const { member: updated } = await api<{ member: MemberDTO }>(
        `/api/projects/${projectId}/members/${member.userId}`,
        { method: 'PATCH', body: { role } },
      );
      toast(
        isMe
          ? `You are now ${ROLE_LABEL[updated.role].toLowerCase()} in this project.`
          : `${name} is now ${ROLE_LABEL[updated.role].toLowerCase()}.`,
      );
      onChanged({ ...updated, user: updated.user ?? member.user });
    } catch (err) {
      if (projectGone(err)) return onGone();
      setError(memberError(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await api<void>(`/api/projects/${projectId}/members/${member.userId}`, {
        method: 'DELETE',
      });
      if (isMe) return onLeft();
      toast(`${name} was removed from the project.`);
      onRemoved(member.userId);
    } catch (err) {
      if (projectGone(err)) return onGone();
      setBusy(false);
      restoreFocus.current = true;
      setConfirming(false);
      setError(memberError(err));
    }
  }

  function cancel() {
    restoreFocus.current = true;
    setConfirming(false);
  }

  return (
    <li className={styles.member} data-testid={`member-${member.userId}`}>
      <div className={styles.who}>
        <Avatar user={member.user ?? { id: member.userId, name }} />
        <div>
          <span className={styles.memberName}>
            {name}
            {isMe && <span className="muted"> (you)</span>}
          </span>
          {member.user?.email && <span className={styles.memberEmail}>{member.user.email}</span>}
        </div>
      </div>
      <div className={styles.controls}>
        {canManage ? (
          <select
            className={`select ${styles.roleSelect}`}
            aria-label={`Role for ${name}`}
            aria-describedby={error ? errorId : undefined}
            value={member.role}
            disabled={busy || !canEditThis}
            title={canEditThis ? undefined : 'Only an owner can change an owner’s role'}
            onChange={(e) => void changeRole(e.target.value as ProjectRole)}
          >
            {PROJECT_ROLES.map((r) => (
              <option key={r} value={r} disabled={r === 'owner' && myRole !== 'owner'}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        ) : (
          <span className={styles.roleBadge}>
            <span className="sr-only">Role: </span>
            {ROLE_LABEL[member.role]}
          </span>
        )}
        {canManage && !confirming && (
          <button
            ref={removeRef}
            type="button"
            className="btn btn-small btn-danger"
            disabled={busy || !canEditThis}
            title={canEditThis ? undefined : 'Only an owner can remove an owner'}
            onClick={() => setConfirming(true)}
          >
            Remove {name}
          </button>
        )}
        {mayLeave && !confirming && (
          <button
            ref={removeRef}
            type="button"
            className="btn btn-small btn-danger"
            disabled={busy}
            onClick={() => setConfirming(true)}
          >
            Leave project
          </button>
        )}
      </div>
      {confirming && (
        <div className={styles.confirm} role="group" aria-label={`Confirm removing ${name}`}>
          <p>
            {isMe
              ? 'Leave this project? You will lose access to its board and chat until someone invites you again.'
              : `Remove ${name} from this project? They lose access to its board and chat at once.`}
          </p>
          <button
            type="button"
            className="btn btn-small btn-danger"
            disabled={busy}
            onClick={() => void remove()}
          >
            {isMe ? 'Yes, leave' : 'Yes, remove'}
          </button>
          <button
            ref={cancelRef}
            type="button"
            className="btn btn-small"
            disabled={busy}
            onClick={cancel}
          >
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p
          id={errorId}
          className="field-error small"
          role="alert"
          style={{ margin: 0, flexBasis: '100%' }}
        >
          {error}
        </p>
      )}
    </li>
  );
}

// ---------------------------------------------------------------- delete

function DeleteProject({ project, onDeleted }: { project: ProjectDTO; onDeleted: () => void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const restoreFocus = useRef(false);
  const matches = typed.trim() === project.name.trim();

  useEffect(() => {
    if (open) {
      inputRef.current?.focus();
    } else if (restoreFocus.current) {
      restoreFocus.current = false;
      openRef.current?.focus();
    }
  }, [open]);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!matches) {
      setError('Type the project’s name exactly to confirm.');
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api<void>(`/api/projects/${project.id}`, { method: 'DELETE' });
      onDeleted();
    } catch (err) {
      setBusy(false);
      if (projectGone(err)) return onDeleted();
      setError(describeError(err));
    }
  }

  return (
    <section
      className={`card-surface stack ${styles.card} ${styles.danger}`}
      aria-labelledby="delete-heading"
    >
      <h2 id="delete-heading">Delete this project</h2>
      <p className="small" style={{ margin: 0 }}>
        Deleting removes the board, every card, every channel and message, for everyone. It cannot
        be undone.
      </p>
      {!open ? (
        <div>
          <button
            ref={openRef}
            type="button"
            className="btn btn-danger"
            onClick={() => setOpen(true)}
          >
            Delete project…
          </button>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
          <TextField
            ref={inputRef}
            id="delete-confirm"
            label={
              <>
                Type <strong>{project.name}</strong> to confirm
              </>
            }
            autoComplete="off"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'delete-error' : undefined}
          />
          {error && (
            <p id="delete-error" className="alert alert-error" role="alert" style={{ margin: 0 }}>
              {error}
            </p>
          )}
          <div className="row" style={{ flexWrap: 'wrap' }}>
            <button type="submit" className="btn btn-danger" disabled={busy || !matches}>
              {busy ? 'Deleting…' : 'Delete this project for everyone'}
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              disabled={busy}
              onClick={() => {
                restoreFocus.current = true;
                setOpen(false);
                setTyped('');
                setError(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- page

function Crumbs({ projectId, name }: { projectId: string; name?: string }) {
  return (
    <nav aria-label="Breadcrumb" className={styles.crumbs}>
      <ol>
        <li className={styles.crumbHideSmall}>
          <Link href="/projects">Projects</Link>
        </li>
        {name && (
          <li>
            <Link href={`/projects/${projectId}`} className={styles.crumbName}>
              {name}
            </Link>
          </li>
        )}
        <li className={styles.crumbHideSmall}>
          <span aria-current="page">Settings</span>
        </li>
      </ol>
    </nav>
  );
}

function SettingsView({ projectId }: { projectId: string }) {
  const { user } = useAuth();
  const router = useRouter();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const membersHeading = useRef<HTMLHeadingElement>(null);
  // After a removal the row (and the focused button in it) is gone: focus the list's heading.
  const focusHeading = useRef(false);
  const memberCount = load.kind === 'ready' ? load.members.length : 0;
  useEffect(() => {
    if (focusHeading.current) {
      focusHeading.current = false;
      membersHeading.current?.focus();
    }
  }, [memberCount]);

  useEffect(() => {
    const ctrl = new AbortController();
    Promise.all([
      api<{ project: ProjectDTO }>(`/api/projects/${projectId}`, { signal: ctrl.signal }),
      api<{ members: MemberDTO[] }>(`/api/projects/${projectId}/members`, { signal: ctrl.signal }),
    ]).then(
      ([p, m]) => setLoad({ kind: 'ready', project: p.project, members: sortMembers(m.members) }),
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) {
          router.replace('/projects?notice=no-access');
          return;
        }
        setLoad({ kind: 'error', message: describeError(err) });
      },
    );
    return () => ctrl.abort();
  }, [projectId, reloads, router]);

  const ready = load.kind === 'ready' ? load : null;
  const project = ready?.project;
  const me = user?.id ?? '';
  const myRole: ProjectRole =
    ready?.members.find((m) => m.userId === me)?.role ?? project?.role ?? 'viewer';
  const canManage = myRole === 'owner' || myRole === 'admin';

  function goneTo(notice: 'no-access' | 'deleted' | 'left') {
    const name = project?.name;
    const q = new URLSearchParams({ notice });
    if (name && notice !== 'no-access') q.set('project', name);
    router.replace(`/projects?${q.toString()}`);
  }

  function setMembers(update: (members: MemberDTO[]) => MemberDTO[]) {
    setLoad((l) => (l.kind === 'ready' ? { ...l, members: sortMembers(update(l.members)) } : l));
  }

  return (
    <>
      <TopBar>
        <Crumbs projectId={projectId} name={project?.name} />
      </TopBar>
      <main className={`page stack ${styles.main}`} style={{ gap: 'var(--space-5)' }}>
        {load.kind === 'loading' && <SettingsSkeleton title={<h1>Project settings</h1>} />}
        {load.kind === 'error' && (
          <>
            <h1>Project settings</h1>
            <div className="alert alert-error stack" role="alert">
              <p style={{ margin: 0 }}>The settings could not be loaded. {load.message}</p>
              <div>
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => {
                    setLoad({ kind: 'loading' });
                    setReloads((n) => n + 1);
                  }}
                >
                  Try again
                </button>
              </div>
            </div>
          </>
        )}
        {ready && project && (
          <>
            <div className={styles.header}>
              <h1>Project settings</h1>
              <Link href={`/projects/${projectId}`} className="btn">
                ← Back to the board
              </Link>
            </div>

            <DetailsForm
              key={`${project.name}\u0000${project.description}`}
              project={project}
              canManage={canManage}
              onSaved={(p) => setLoad((l) => (l.kind === 'ready' ? { ...l, project: p } : l))}
              onGone={() => goneTo('no-access')}
            />

            <section
              className={`card-surface stack ${styles.card}`}
              aria-labelledby="members-heading"
            >
              <h2 id="members-heading" ref={membersHeading} tabIndex={-1}>
                Members <span className="muted">({ready.members.length})</span>
              </h2>
              {canManage && (
                <InviteForm
                  projectId={projectId}
                  myRole={myRole}
                  onInvited={(m) =>
                    setMembers((ms) => [...ms.filter((x) => x.userId !== m.userId), m])
                  }
                  onGone={() => goneTo('no-access')}
                />
              )}
              <ul className={styles.members}>
                {ready.members.map((m) => (
                  <MemberRow
                    key={m.userId}
                    member={m}
                    me={me}
                    myRole={myRole}
                    canManage={canManage}
                    projectId={projectId}
                    onChanged={(u) =>
                      setMembers((ms) => ms.map((x) => (x.userId === u.userId ? u : x)))
                    }
                    onRemoved={(id) => {
                      focusHeading.current = true;
                      setMembers((ms) => ms.filter((x) => x.userId !== id));
                    }}
                    onLeft={() => goneTo('left')}
                    onGone={() => goneTo('no-access')}
                  />
                ))}
              </ul>
            </section>

            {myRole === 'owner' && (
              <DeleteProject project={project} onDeleted={() => goneTo('deleted')} />
            )}
          </>
        )}
      </main>
    </>
  );
}

export default function ProjectSettingsPage() {
  const params = useParams<{ projectId: string }>();
  return (
    <RequireAuth fallback={<SettingsPageSkeleton />}>
      <SettingsView projectId={params.projectId} />
    </RequireAuth>
  );
}
