import type { TaskStatus } from './constants.js';
import type {
  ChannelDTO,
  MemberDTO,
  MessageDTO,
  ProjectDTO,
  PublicUserDTO,
  TaskDTO,
} from './types.js';

/** Domain event data, keyed by event type. The type is also the Socket.IO event name. */
export interface DomainEventData {
  'task:created': { task: TaskDTO; createdBy: string };
  'task:updated': {
    taskId: string;
    updates: Record<string, unknown>;
    task: TaskDTO;
    updatedBy: string;
  };
  'task:moved': {
    taskId: string;
    fromStatus: TaskStatus;
    toStatus: TaskStatus;
    newIndex: number;
    task: TaskDTO;
    movedBy: string;
  };
  'task:deleted': { taskId: string; deletedBy: string };
  'project:updated': { project: ProjectDTO };
  'project:deleted': { projectId: string };
  'member:added': { member: MemberDTO };
  'member:updated': { member: MemberDTO };
  'member:removed': { userId: string };
  'channel:created': { channel: ChannelDTO };
  'chat:newMessage': MessageDTO;
  'chat:messageUpdated': MessageDTO;
  'chat:messageDeleted': { messageId: string; channelId: string };
}
export type DomainEventType = keyof DomainEventData;

/**
 * The one event shape. `seq` is the project's counter, incremented atomically with the change;
 * `clientId` is the mutation id a socket client sent, so it can drop its own echo.
 */
export interface DomainEvent<T extends DomainEventType = DomainEventType> {
  type: T;
  projectId: string;
  seq: number;
  at: string;
  actor: string;
  clientId?: string;
  data: DomainEventData[T];
}
export type AnyDomainEvent = { [T in DomainEventType]: DomainEvent<T> }[DomainEventType];

/** What a socket receives for a domain event: its data plus the envelope fields. */
export type BroadcastPayload<T extends DomainEventType> = DomainEventData[T] & {
  projectId: string;
  seq: number;
  at: string;
  actor: string;
  clientId?: string;
};

export interface ErrorInfo {
  code: string;
  message: string;
  details?: unknown;
}
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorInfo };
export type AckFn<T> = (answer: Ack<T>) => void;

export interface JoinProjectResult {
  seq: number;
  users: PublicUserDTO[];
  missed?: AnyDomainEvent[];
  resync?: boolean;
}

export interface ClientToServerEvents {
  'join:project': (payload: unknown, ack: AckFn<JoinProjectResult>) => void;
  'leave:project': (payload: unknown, ack: AckFn<null>) => void;
  'task:create': (payload: unknown, ack: AckFn<{ task: TaskDTO }>) => void;
  'task:update': (payload: unknown, ack: AckFn<{ task: TaskDTO }>) => void;
  'task:move': (payload: unknown, ack: AckFn<{ task: TaskDTO }>) => void;
  'task:delete': (payload: unknown, ack: AckFn<null>) => void;
  'chat:join': (payload: unknown, ack: AckFn<{ messages: MessageDTO[] }>) => void;
  'chat:leave': (payload: unknown, ack: AckFn<null>) => void;
  'chat:message': (payload: unknown, ack: AckFn<{ message: MessageDTO }>) => void;
  'chat:typing': (payload: unknown, ack: AckFn<null>) => void;
}

export type ServerToClientEvents = {
  [T in DomainEventType]: (payload: BroadcastPayload<T>) => void;
} & {
  'room:users': (payload: { projectId: string; users: PublicUserDTO[] }) => void;
  'user:joined': (payload: { projectId: string; userId: string; user?: PublicUserDTO }) => void;
  'user:left': (payload: { projectId: string; userId: string; user?: PublicUserDTO }) => void;
  'chat:userTyping': (payload: {
    channelId: string;
    userId: string;
    user: PublicUserDTO;
    isTyping: boolean;
  }) => void;
  notification: (payload: {
    kind: string;
    message: string;
    projectId?: string;
    data?: unknown;
  }) => void;
  /** Sent before the server closes a connection on purpose (token expired, replica shutting down). */
  'session:ending': (payload: { reason: 'token_expired' | 'server_shutdown' }) => void;
};

export const SOCKET_ERROR_CODES = {
  unauthorized: 'unauthorized',
  tokenExpired: 'token_expired',
} as const;
