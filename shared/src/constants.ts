/** Kanban columns, in board order. */
export const TASK_STATUSES = ['todo', 'in-progress', 'review', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TASK_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/** Project roles, strongest first. */
export const PROJECT_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const LIMITS = {
  titleMax: 200,
  descriptionMax: 10_000,
  messageMax: 4000,
  nameMax: 100,
  labelMax: 50,
  labelsMax: 20,
  subtasksMax: 50,
  passwordMin: 8,
  passwordMax: 200,
  pageSizeMax: 100,
  pageSizeDefault: 50,
} as const;

/** Room names used by the real-time layer. */
export const rooms = {
  project: (projectId: string): string => `project:${projectId}`,
  user: (userId: string): string => `user:${userId}`,
  channel: (channelId: string): string => `channel:${channelId}`,
} as const;
