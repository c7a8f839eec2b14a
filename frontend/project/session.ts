/**
 * One open project in this tab: its snapshot (project, members, tasks) loaded over REST, its
 * room joined over the socket, and every domain event applied in seq order, once, to the board
 * and to whoever else listens (the chat panel). On reconnect it rejoins with the last seq and
 * applies what it missed, or reloads the snapshot when the server answers `resync`.
 */
import {
  type AnyDomainEvent,
  type DomainEventType,
  type JoinProjectResult,
  type MemberDTO,
  type ProjectDTO,
  type ProjectRole,
  type PublicUserDTO,
  type TaskDTO,
} from '@collabflow/shared';
import { api, ApiError } from '@/lib/api';
import { emitWithAck } from '@/hooks/useSocket';
import type { AppSocket } from '@/lib/socket';
import { SeqOrderer } from '@/lib/seq-order';
import { BoardStore } from '@/board/board-store';

export type SessionStatus =
  | { kind: 'loading' }
  | { kind: 'ready' }
  | { kind: 'gone'; reason: 'no-access' | 'removed' | 'deleted' }
  | { kind: 'error'; message: string };

const DOMAIN_EVENTS: DomainEventType[] = [
  'task:created',
  'task:updated',
  'task:moved',
  'task:deleted',
  'project:updated',
  'project:deleted',
  'member:added',
  'member:updated',
  'member:removed',
  'channel:created',
  'chat:newMessage',
  'chat:messageUpdated',
  'chat:messageDeleted',
];

type Listener = () => void;
type SocketLike = {
  on(event: string, listener: (...args: never[]) => void): void;
  off(event: string, listener: (...args: never[]) => void): void;
};

export class ProjectSession {
  readonly board = new BoardStore();
  private project_: ProjectDTO | null = null;
  private members_: MemberDTO[] = [];
  private online_: PublicUserDTO[] = [];
  private status_: SessionStatus = { kind: 'loading' };
  private listeners = new Set<Listener>();
  private eventListeners = new Set<(e: AnyDomainEvent) => void>();
  private orderer: SeqOrderer<AnyDomainEvent>;
  private syncing: Promise<void> | null = null;
  private disposed = false;
  private detach: (() => void) | null = null;

  constructor(
    readonly projectId: string,
    private readonly socket: AppSocket,
    readonly me: { id: string },
  ) {
    this.orderer = new SeqOrderer(
      (e) => this.dispatch(e),
      () => void this.sync(false),
    );
  }

  // ---------- reading ----------
  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  get status(): SessionStatus {
    return this.status_;
  }
  get project(): ProjectDTO | null {
    return this.project_;
  }
  get members(): MemberDTO[] {
    return this.members_;
  }
  get online(): PublicUserDTO[] {
    return this.online_;
  }
  get lastSeq(): number | null {
    return this.orderer.lastSeq;
  }
  get role(): ProjectRole | undefined {
    return this.members_.find((m) => m.userId === this.me.id)?.role ?? this.project_?.role;
  }
  get canEdit(): boolean {
    const r = this.role;
    return r === 'owner' || r === 'admin' || r === 'member';
  }
  get canManage(): boolean {
    const r = this.role;
    return r === 'owner' || r === 'admin';
  }
  /** Domain events in seq order, after the board applied them (chat, notifications). */
  onEvent(l: (e: AnyDomainEvent) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  // ---------- lifecycle ----------
  start(): void {
    const s = this.socket as unknown as SocketLike;
    const handlers: [string, (...args: never[]) => void][] = DOMAIN_EVENTS.map((type) => [
      type,
      ((payload: Record<string, unknown> & { projectId: string; seq: number }) =>
        this.receive(type, payload)) as (...args: never[]) => void,
    ]);
    handlers.push(
      [
        'room:users',
        ((p: { projectId: string; users: PublicUserDTO[] }) => {
          if (p.projectId === this.projectId) this.setOnline(p.users);
        }) as (...args: never[]) => void,
      ],
      [
        'user:joined',
        ((p: { projectId: string; userId: string; user?: PublicUserDTO }) => {
          if (p.projectId !== this.projectId || this.online_.some((u) => u.id === p.userId)) return;
          const user = p.user ?? this.memberUser(p.userId);
          if (user) this.setOnline([...this.online_, user]);
        }) as (...args: never[]) => void,
      ],
      [
        'user:left',
        ((p: { projectId: string; userId: string }) => {
          if (p.projectId === this.projectId)
            this.setOnline(this.online_.filter((u) => u.id !== p.userId));
        }) as (...args: never[]) => void,
      ],
      ['connect', (() => void this.sync(false)) as (...args: never[]) => void],
    );
    for (const [e, h] of handlers) s.on(e, h);
    this.detach = () => {
      for (const [e, h] of handlers) s.off(e, h);
    };
    void this.sync(true);
  }

  stop(): void {
    this.disposed = true;
    this.detach?.();
    this.orderer.dispose();
    if (this.socket.connected && this.status_.kind === 'ready')
      emitWithAck(this.socket, 'leave:project', this.projectId).catch(() => {});
  }

  /** Reloads the snapshot and rejoins (after a resync, or when something looks off). */
  reload(): Promise<void> {
    return this.sync(true);
  }

  // ---------- sync ----------
  private sync(full: boolean): Promise<void> {
    if (this.disposed || this.status_.kind === 'gone') return Promise.resolve();
    if (this.syncing) return this.syncing;
    this.syncing = this.doSync(full).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async doSync(full: boolean): Promise<void> {
    try {
      if (full || this.orderer.lastSeq === null) await this.loadSnapshot();
      if (!this.socket.connected || this.disposed) return;
      let res = await this.join(this.orderer.lastSeq);
      if (res.resync) {
        await this.loadSnapshot();
        res = await this.join(this.orderer.lastSeq);
        if (res.resync) this.orderer.reset(res.seq);
      }
      for (const e of res.missed ?? []) this.orderer.push(e);
      this.orderer.advanceTo(res.seq);
      this.setOnline(res.users);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
        this.setStatus({ kind: 'gone', reason: 'no-access' });
      } else if (this.project_ === null) {
        this.setStatus({
          kind: 'error',
          message: err instanceof Error ? err.message : 'Could not load the project',
        });
      }
      // Otherwise (offline, timeout) the next 'connect' syncs again; the banner says why.
    }
  }

  private join(sinceSeq: number | null): Promise<JoinProjectResult> {
    return emitWithAck(
      this.socket,
      'join:project',
      sinceSeq === null ? { projectId: this.projectId } : { projectId: this.projectId, sinceSeq },
    );
  }

  private async loadSnapshot(): Promise<void> {
    const id = encodeURIComponent(this.projectId);
    // The project first: its seq is no newer than the lists read after it, so replaying from it
    // can only re-apply events (idempotent), never skip one.
    const { project } = await api<{ project: ProjectDTO }>(`/api/projects/${id}`);
    const [{ tasks }, { members }] = await Promise.all([
      api<{ tasks: TaskDTO[] }>(`/api/projects/${id}/tasks`),
      api<{ members: MemberDTO[] }>(`/api/projects/${id}/members`),
    ]);
    if (this.disposed) return;
    this.project_ = project;
    this.members_ = members;
    this.board.reset(tasks);
    this.orderer.reset(project.seq);
    this.setStatus({ kind: 'ready' });
  }

  // ---------- events ----------
  private receive(type: DomainEventType, payload: Record<string, unknown>): void {
    if (payload.projectId !== this.projectId || typeof payload.seq !== 'number') return;
    const event = {
      type,
      projectId: this.projectId,
      seq: payload.seq,
      at: String(payload.at ?? ''),
      actor: String(payload.actor ?? ''),
      ...(typeof payload.clientId === 'string' ? { clientId: payload.clientId } : {}),
      data: payload,
    } as unknown as AnyDomainEvent;
    this.orderer.push(event);
  }

  private dispatch(e: AnyDomainEvent): void {
    this.board.apply(e);
    switch (e.type) {
      case 'project:updated':
        this.project_ = { ...e.data.project, role: this.project_?.role ?? e.data.project.role };
        break;
      case 'project:deleted':
        this.setStatus({ kind: 'gone', reason: 'deleted' });
        break;
      case 'member:added':
      case 'member:updated': {
        const m = e.data.member;
        const rest = this.members_.filter((x) => x.userId !== m.userId);
        const old = this.members_.find((x) => x.userId === m.userId);
        this.members_ = [...rest, { ...m, user: m.user ?? old?.user }];
        break;
      }
      case 'member:removed':
        this.members_ = this.members_.filter((x) => x.userId !== e.data.userId);
        this.online_ = this.online_.filter((u) => u.id !== e.data.userId);
        if (e.data.userId === this.me.id) this.setStatus({ kind: 'gone', reason: 'removed' });
        break;
      default:
        break;
    }
    for (const l of this.eventListeners) l(e);
    this.notify();
  }

  private memberUser(userId: string): PublicUserDTO | undefined {
    const u = this.members_.find((m) => m.userId === userId)?.user;
    return u ? { id: u.id, name: u.name, avatarColor: u.avatarColor } : undefined;
  }

  private setOnline(users: PublicUserDTO[]): void {
    const seen = new Set<string>();
    this.online_ = users.filter((u) => !seen.has(u.id) && seen.add(u.id));
    this.notify();
  }

  private setStatus(s: SessionStatus): void {
    this.status_ = s;
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
