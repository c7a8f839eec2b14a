import type { ProjectRole, TaskPriority, TaskStatus } from './constants.js';

/** Entities as they travel over REST and Socket.IO (ids are hex strings, dates ISO strings). */
export interface UserDTO {
  id: string;
  email: string;
  name: string;
  avatarColor: string;
}

/** A user as others see them: no email. */
export interface PublicUserDTO {
  id: string;
  name: string;
  avatarColor: string;
}

export interface WorkspaceDTO {
  id: string;
  name: string;
  ownerId: string;
  createdAt: string;
}

export interface ProjectDTO {
  id: string;
  name: string;
  description: string;
  workspaceId: string | null;
  ownerId: string;
  seq: number;
  role?: ProjectRole;
  createdAt: string;
  updatedAt: string;
}

export interface MemberDTO {
  projectId: string;
  userId: string;
  role: ProjectRole;
  user?: PublicUserDTO & { email?: string };
}

export interface SubtaskDTO {
  id: string;
  title: string;
  done: boolean;
}

export interface TaskDTO {
  id: string;
  projectId: string;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  assignee: string | null;
  dueDate: string | null;
  labels: string[];
  subtasks: SubtaskDTO[];
  /** Fractional index: tasks of one status sort by this string (plain code-unit order). */
  position: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelDTO {
  id: string;
  projectId: string;
  name: string;
  createdAt: string;
}

export interface MessageDTO {
  id: string;
  channelId: string;
  projectId: string;
  content: string;
  sender: PublicUserDTO;
  edited: boolean;
  deleted: boolean;
  /** The project seq of the message's creation: history and live events share this order. */
  seq: number;
  clientId?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}
