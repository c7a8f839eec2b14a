'use client';
/**
 * Your workspaces and the projects you are a member of, grouped by workspace; create either.
 * The board page sends people here with `?notice=removed|deleted|no-access&project=<name>` when
 * they lose a project, and this page says what happened.
 */
import { Suspense, useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import {
  createProjectBody,
  createWorkspaceBody,
  type ProjectDTO,
  type ProjectRole,
  type WorkspaceDTO,
} from '@collabflow/shared';
import { RequireAuth, useAuth } from '@/components/auth';
import { fieldErrors, SelectField, TextAreaField, TextField } from '@/components/Field';
import { ProjectListSkeleton, ProjectsPageSkeleton } from '@/components/Skeletons';
import { TopBar } from '@/components/TopBar';
import { useToast } from '@/components/toast';
import { api, ApiError, describeError } from '@/lib/api';
import styles from './projects.module.css';

type Load =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; workspaces: WorkspaceDTO[]; projects: ProjectDTO[] };

const ROLE_LABEL: Record<ProjectRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
};

function noticeText(notice: string | null, project: string | null): string | null {
  const name = project?.trim() || null;
  switch (notice) {
    case 'removed':
      return name ? `You were removed from ${name}.` : 'You were removed from that project.';
    case 'left':
      return name ? `You left ${name}.` : 'You left that project.';
    case 'deleted':
      return name ? `${name} was deleted.` : 'That project was deleted.';
    case 'no-access':
      return 'You do not have access to that project.';
    default:
      return null;
  }
}

function Notice() {
  const params = useSearchParams();
  const router = useRouter();
  const text = noticeText(params.get('notice'), params.get('project'));
  if (!text) return null;
  return (
    <div className={`alert alert-warning ${styles.notice}`} role="alert">
      <p>{text}</p>
      <button type="button" className="btn btn-small" onClick={() => router.replace('/projects')}>
        Dismiss
      </button>
    </div>
  );
}

function ProjectCard({ project }: { project: ProjectDTO }) {
  return (
    <li className={`card-surface ${styles.card}`}>
      <h3 className={styles.cardTitle}>
        <Link href={`/projects/${project.id}`} className={styles.cardLink}>
          {project.name}
        </Link>
      </h3>
      {project.description && <p className={styles.description}>{project.description}</p>}
      {project.role && (
        <span className={styles.role}>
          <span className="sr-only">Your role: </span>
          {ROLE_LABEL[project.role]}
        </span>
      )}
    </li>
  );
}

function ProjectGrid({ projects }: { projects: ProjectDTO[] }) {
  return (
    <ul className={styles.grid}>
      {projects.map((p) => (
        <ProjectCard key={p.id} project={p} />
      ))}
    </ul>
  );
}

/** A card holding one creation form: its heading, fields, what went wrong, create and cancel. */
function PanelForm({
  id,
  title,
  children,
  formError,
  busy,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
}: {
  id: string;
  title: string;
  children: ReactNode;
  formError: string | null;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  onSubmit: (e: FormEvent<HTMLFormElement>) => Promise<void>;
  onCancel: () => void;
}) {
  return (
    <section className={`card-surface ${styles.panel}`} aria-labelledby={`${id}-heading`}>
      <form className="stack" onSubmit={(e) => void onSubmit(e)} noValidate>
        <h2 id={`${id}-heading`}>{title}</h2>
        {children}
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
        <div className={styles.panelActions}>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? busyLabel : submitLabel}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

/** The new-project fields as error sentences name them. */
const PROJECT_LABELS = {
  name: 'Project name',
  description: 'Description',
  workspaceId: 'Workspace',
};

function NewProjectForm({
  workspaces,
  initialWorkspaceId,
  onCancel,
}: {
  workspaces: WorkspaceDTO[];
  initialWorkspaceId: string;
  onCancel: () => void;
}) {
  const router = useRouter();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [workspaceId, setWorkspaceId] = useState(initialWorkspaceId);
  const [errors, setErrors] = useState<Partial<Record<keyof typeof PROJECT_LABELS, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const descriptionRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFormError(null);
    const parsed = createProjectBody.safeParse({
      name,
      description: description.trim() ? description : undefined,
      workspaceId: workspaceId || undefined,
    });
    if (!parsed.success) {
      const errs = fieldErrors(parsed.error.issues, PROJECT_LABELS);
      setErrors(errs);
      if (errs.name) nameRef.current?.focus();
      else if (errs.description) descriptionRef.current?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const { project } = await api<{ project: ProjectDTO }>('/api/projects', {
        method: 'POST',
        body: parsed.data,
      });
      router.push(`/projects/${project.id}`);
    } catch (err) {
      setBusy(false);
      setFormError(
        err instanceof ApiError && err.status === 404
          ? 'That workspace no longer exists, or it is not yours. Choose another one.'
          : describeError(err),
      );
    }
  }

  return (
    <PanelForm
      id="new-project"
      title="New project"
      formError={formError}
      busy={busy}
      submitLabel="Create project"
      busyLabel="Creating project…"
      onSubmit={onSubmit}
      onCancel={onCancel}
    >
      <TextField
        ref={nameRef}
        id="project-name"
        label="Project name"
        error={errors.name}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
      />
      <TextAreaField
        ref={descriptionRef}
        id="project-description"
        label="Description (optional)"
        error={errors.description}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      {workspaces.length > 0 && (
        <SelectField
          id="project-workspace"
          label="Workspace"
          error={errors.workspaceId}
          value={workspaceId}
          onChange={(e) => setWorkspaceId(e.target.value)}
        >
          <option value="">No workspace</option>
          {workspaces.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </SelectField>
      )}
    </PanelForm>
  );
}

function NewWorkspaceForm({
  onCreated,
  onCancel,
}: {
  onCreated: (w: WorkspaceDTO) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFormError(null);
    const parsed = createWorkspaceBody.safeParse({ name });
    if (!parsed.success) {
      setError(fieldErrors(parsed.error.issues, { name: 'Workspace name' }).name ?? null);
      nameRef.current?.focus();
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const { workspace } = await api<{ workspace: WorkspaceDTO }>('/api/workspaces', {
        method: 'POST',
        body: parsed.data,
      });
      onCreated(workspace);
    } catch (err) {
      setBusy(false);
      setFormError(describeError(err));
    }
  }

  return (
    <PanelForm
      id="new-workspace"
      title="New workspace"
      formError={formError}
      busy={busy}
      submitLabel="Create workspace"
      busyLabel="Creating workspace…"
      onSubmit={onSubmit}
      onCancel={onCancel}
    >
      <p className="small muted" style={{ margin: 0 }}>
        A workspace groups related projects, for example one per team.
      </p>
      <TextField
        ref={nameRef}
        id="workspace-name"
        label="Workspace name"
        error={error}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
      />
    </PanelForm>
  );
}

type Panel = { kind: 'none' } | { kind: 'project'; workspaceId: string } | { kind: 'workspace' };

function ProjectsView() {
  const { user } = useAuth();
  const toast = useToast();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const newProjectButton = useRef<HTMLButtonElement>(null);
  const newWorkspaceButton = useRef<HTMLButtonElement>(null);
  const restoreFocus = useRef<'project' | 'workspace' | null>(null);

  // A closed form hands the focus back to the button that opened it.
  useEffect(() => {
    if (panel.kind !== 'none' || !restoreFocus.current) return;
    (restoreFocus.current === 'workspace' ? newWorkspaceButton : newProjectButton).current?.focus();
    restoreFocus.current = null;
  }, [panel.kind]);

  useEffect(() => {
    const ctrl = new AbortController();
    Promise.all([
      api<{ workspaces: WorkspaceDTO[] }>('/api/workspaces', { signal: ctrl.signal }),
      api<{ projects: ProjectDTO[] }>('/api/projects', { signal: ctrl.signal }),
    ]).then(
      ([w, p]) => setLoad({ kind: 'ready', workspaces: w.workspaces, projects: p.projects }),
      (err: unknown) => {
        if (!ctrl.signal.aborted) setLoad({ kind: 'error', message: describeError(err) });
      },
    );
    return () => ctrl.abort();
  }, [reloads]);

  function retry() {
    setLoad({ kind: 'loading' });
    setReloads((n) => n + 1);
  }

  function closePanel() {
    restoreFocus.current = panel.kind === 'workspace' ? 'workspace' : 'project';
    setPanel({ kind: 'none' });
  }

  function onWorkspaceCreated(w: WorkspaceDTO) {
    setLoad((l) => (l.kind === 'ready' ? { ...l, workspaces: [...l.workspaces, w] } : l));
    toast(`Workspace “${w.name}” created. Add a project to it.`);
    setPanel({ kind: 'project', workspaceId: w.id });
  }

  const ready = load.kind === 'ready' ? load : null;
  const ownWorkspaces = ready?.workspaces.filter((w) => w.ownerId === user?.id) ?? [];
  const known = new Set(ready?.workspaces.map((w) => w.id));
  const others = ready?.projects.filter((p) => !p.workspaceId || !known.has(p.workspaceId)) ?? [];

  return (
    <>
      <TopBar />
      <main className="page stack" style={{ gap: 'var(--space-5)' }}>
        <div className={styles.header}>
          <h1>Projects</h1>
          <div className={styles.actions}>
            <button
              ref={newWorkspaceButton}
              type="button"
              className="btn"
              aria-expanded={panel.kind === 'workspace'}
              aria-controls={panel.kind === 'workspace' ? 'new-workspace-panel' : undefined}
              onClick={() =>
                setPanel(panel.kind === 'workspace' ? { kind: 'none' } : { kind: 'workspace' })
              }
              disabled={!ready}
            >
              New workspace
            </button>
            <button
              ref={newProjectButton}
              type="button"
              className="btn btn-primary"
              aria-expanded={panel.kind === 'project'}
              aria-controls={panel.kind === 'project' ? 'new-project-panel' : undefined}
              onClick={() =>
                setPanel(
                  panel.kind === 'project'
                    ? { kind: 'none' }
                    : { kind: 'project', workspaceId: '' },
                )
              }
              disabled={!ready}
            >
              New project
            </button>
          </div>
        </div>

        <Notice />

        {panel.kind === 'workspace' && (
          <div id="new-workspace-panel">
            <NewWorkspaceForm onCreated={onWorkspaceCreated} onCancel={closePanel} />
          </div>
        )}
        {panel.kind === 'project' && ready && (
          <div id="new-project-panel">
            <NewProjectForm
              key={panel.workspaceId}
              workspaces={ownWorkspaces}
              initialWorkspaceId={panel.workspaceId}
              onCancel={closePanel}
            />
          </div>
        )}

        {load.kind === 'loading' && <ProjectListSkeleton />}

        {load.kind === 'error' && (
          <div className="alert alert-error stack" role="alert">
            <p style={{ margin: 0 }}>Your projects could not be loaded. {load.message}</p>
            <div>
              <button type="button" className="btn btn-small" onClick={retry}>
                Try again
              </button>
            </div>
          </div>
        )}

        {ready && ready.projects.length === 0 && panel.kind !== 'project' && (
          <div className={`card-surface empty ${styles.empty}`}>
            <p>No projects yet. Create your first project to get a board and a chat.</p>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => setPanel({ kind: 'project', workspaceId: '' })}
            >
              Create your first project
            </button>
          </div>
        )}

        {ready &&
          ready.workspaces.map((w) => {
            const projects = ready.projects.filter((p) => p.workspaceId === w.id);
            const mine = w.ownerId === user?.id;
            const headingId = `workspace-${w.id}`;
            return (
              <section key={w.id} className={styles.group} aria-labelledby={headingId}>
                <div className={styles.groupHeader}>
                  <h2 id={headingId}>{w.name}</h2>
                  <span className="small muted">
                    {projects.length === 1 ? '1 project' : `${projects.length} projects`}
                  </span>
                  {mine && (
                    <button
                      type="button"
                      className="btn btn-small btn-ghost"
                      style={{ marginLeft: 'auto' }}
                      onClick={() => setPanel({ kind: 'project', workspaceId: w.id })}
                    >
                      Add a project to {w.name}
                    </button>
                  )}
                </div>
                {projects.length > 0 ? (
                  <ProjectGrid projects={projects} />
                ) : (
                  <p className="small muted" style={{ margin: 0 }}>
                    No projects in this workspace yet.
                  </p>
                )}
              </section>
            );
          })}

        {ready && others.length > 0 && (
          <section className={styles.group} aria-labelledby="other-projects">
            <div className={styles.groupHeader}>
              <h2 id="other-projects">
                {ready.workspaces.length > 0 ? 'Other projects' : 'Your projects'}
              </h2>
              <span className="small muted">
                {others.length === 1 ? '1 project' : `${others.length} projects`}
              </span>
            </div>
            <ProjectGrid projects={others} />
          </section>
        )}
      </main>
    </>
  );
}

export default function ProjectsPage() {
  return (
    <Suspense fallback={<ProjectsPageSkeleton />}>
      <RequireAuth fallback={<ProjectsPageSkeleton />}>
        <ProjectsView />
      </RequireAuth>
    </Suspense>
  );
}
