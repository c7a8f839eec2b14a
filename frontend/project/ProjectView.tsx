'use client';
/**
 * The project page: the board with its filters, the chat beside it (a drawer on phones), who is
 * online, and the connection banner. The board is read-only for viewers and while offline.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { TASK_STATUSES, type TaskStatus } from '@collabflow/shared';
import { useAuth } from '@/components/auth';
import { TopBar } from '@/components/TopBar';
import { ConnectionBanner } from '@/components/ConnectionBanner';
import { useToast } from '@/components/toast';
import { useSocket } from '@/hooks/useSocket';
import { Board } from '@/board/Board';
import { CardDialog, type DialogTarget } from '@/board/CardDialog';
import { Filters, filterFromParams, paramsWithFilter } from '@/board/Filters';
import type { BoardFilter } from '@/board/board-store';
import { PresenceBar } from '@/presence/PresenceBar';
import { ChatPanel } from '@/chat/ChatPanel';
import type { ProjectSession } from './session';
import { useProjectSession, useSessionValue } from './useSession';
import styles from './project.module.css';

export function ProjectSkeleton() {
  return (
    <div className={styles.shell} aria-busy="true" aria-label="Loading the project">
      <div className="topbar" />
      <div className={styles.skeletonBoard}>
        {TASK_STATUSES.map((s) => (
          <div key={s} className={styles.skeletonColumn}>
            <div className="skeleton" style={{ height: 20, width: '50%' }} />
            <div className="skeleton" style={{ height: 64 }} />
            <div className="skeleton" style={{ height: 64 }} />
          </div>
        ))}
      </div>
    </div>
  );
}

function NoAccess() {
  return (
    <div className={styles.shell}>
      <TopBar />
      <main className="page">
        <div className="card-surface stack" style={{ padding: 'var(--space-6)' }}>
          <h1>No access to this project</h1>
          <p className="muted">
            This project does not exist, or you are not a member of it. Ask one of its owners or
            admins to invite you.
          </p>
          <p>
            <Link className="btn btn-primary" href="/projects">
              Back to your projects
            </Link>
          </p>
        </div>
      </main>
    </div>
  );
}

export function ProjectView({ projectId }: { projectId: string }) {
  const { user } = useAuth();
  const { socket, state } = useSocket();
  const session = useProjectSession(projectId, socket, user?.id);
  if (!session || !socket) return <ProjectSkeleton />;
  return (
    <LoadedProject key={session.projectId} session={session} online={state.kind === 'connected'} />
  );
}

function LoadedProject({ session, online }: { session: ProjectSession; online: boolean }) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const toast = useToast();
  const { socket } = useSocket();
  const status = useSessionValue(session, (s) => s.status);
  const project = useSessionValue(session, (s) => s.project);
  const members = useSessionValue(session, (s) => s.members);
  const onlineUsers = useSessionValue(session, (s) => s.online);
  const canEdit = useSessionValue(session, (s) => s.canEdit);
  const canManage = useSessionValue(session, (s) => s.canManage);
  const [dialog, setDialog] = useState<DialogTarget | null>(null);
  const [chatOpen, setChatOpen] = useState(false);

  const filter = useMemo(() => filterFromParams(new URLSearchParams(params.toString())), [params]);
  useEffect(() => session.board.setFilter(filter), [session, filter]);
  const setFilter = useCallback(
    (f: BoardFilter) =>
      router.replace(`${pathname}${paramsWithFilter(new URLSearchParams(params.toString()), f)}`, {
        scroll: false,
      }),
    [router, pathname, params],
  );

  // Removed from the project, or the project deleted: off this page, with a message.
  useEffect(() => {
    if (status.kind !== 'gone' || status.reason === 'no-access') return;
    const name = project?.name ?? 'the project';
    toast(
      status.reason === 'removed'
        ? `You were removed from ${name}.`
        : `${name} was deleted by its owner.`,
      'error',
    );
    router.replace(`/projects?notice=${status.reason}&project=${encodeURIComponent(name)}`);
  }, [status, project, router, toast]);

  const openCard = useCallback((taskId: string) => setDialog({ kind: 'edit', taskId }), []);
  const addCard = useCallback((s: TaskStatus) => setDialog({ kind: 'create', status: s }), []);

  if (status.kind === 'gone' && status.reason === 'no-access') return <NoAccess />;
  if (status.kind === 'gone') return <ProjectSkeleton />;
  if (status.kind === 'error')
    return (
      <div className={styles.shell}>
        <TopBar />
        <main className="page">
          <p className="alert alert-error" role="alert">
            Could not open this project: {status.message}
          </p>
          <button type="button" className="btn" onClick={() => void session.reload()}>
            Try again
          </button>
        </main>
      </div>
    );
  if (status.kind === 'loading' || !project || !socket) return <ProjectSkeleton />;

  const readOnly = !canEdit || !online;
  const filtered = Boolean(filter.text || filter.assignee || filter.priority);
  return (
    <div className={styles.shell}>
      <TopBar>
        <nav aria-label="Breadcrumb" className={styles.crumbs}>
          <Link href="/projects">Projects</Link>
          <span aria-hidden="true">/</span>
          <h1 className={styles.projectName}>{project.name}</h1>
        </nav>
        <span className="spacer" />
        <PresenceBar users={onlineUsers} meId={session.me.id} />
      </TopBar>
      <ConnectionBanner />
      <div className={styles.toolbar}>
        <Filters filter={filter} members={members} onChange={setFilter} />
        <span className="spacer" />
        {!canEdit && (
          <span className={styles.badge} title="Viewers can read the board and chat">
            Read-only: you are a viewer
          </span>
        )}
        <Link className="btn btn-small" href={`/projects/${session.projectId}/settings`}>
          {canManage ? 'Settings & members' : 'Members'}
        </Link>
        <button
          type="button"
          className={`btn btn-small ${styles.chatToggle}`}
          aria-expanded={chatOpen}
          aria-controls="project-chat"
          onClick={() => setChatOpen((o) => !o)}
        >
          {chatOpen ? 'Close chat' : 'Chat'}
        </button>
      </div>
      <div className={styles.main}>
        <main className={styles.boardArea} aria-label="Board">
          <Board
            session={session}
            socket={socket}
            readOnly={readOnly}
            filtered={filtered}
            onAdd={addCard}
            onOpen={openCard}
          />
        </main>
        <aside
          id="project-chat"
          className={styles.chat}
          data-open={chatOpen || undefined}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && chatOpen) setChatOpen(false);
          }}
        >
          <ChatPanel session={session} />
        </aside>
      </div>
      {dialog && (
        <CardDialog
          session={session}
          socket={socket}
          target={dialog}
          readOnly={readOnly}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}
