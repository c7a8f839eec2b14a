import { z } from 'zod';
import { LIMITS, PROJECT_ROLES, TASK_PRIORITIES, TASK_STATUSES } from './constants.js';

/**
 * Every schema is strict: unknown keys are rejected, and every leaf is a primitive of a known
 * type, so an operator object such as `{ "$gt": "" }` never reaches MongoDB.
 */

export const objectId = z
  .string()
  .regex(/^[a-f0-9]{24}$/i, 'must be a 24-character hexadecimal id')
  .transform((s) => s.toLowerCase());

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }));

const name = z.string().trim().min(1, 'must not be empty').max(LIMITS.nameMax);

export const taskStatus = z.enum(TASK_STATUSES);
export const taskPriority = z.enum(TASK_PRIORITIES);
export const projectRole = z.enum(PROJECT_ROLES);

// ---------- auth ----------
/** A password being chosen (register, change). */
const newPassword = z
  .string()
  .min(LIMITS.passwordMin, `must be at least ${LIMITS.passwordMin} characters`)
  .max(LIMITS.passwordMax);
/** A password being presented (login, confirmation). */
const presentedPassword = z.string().min(1).max(LIMITS.passwordMax);

export const registerBody = z.strictObject({
  email,
  password: newPassword,
  name,
});
export const loginBody = z.strictObject({
  email,
  password: presentedPassword,
});
export const changePasswordBody = z.strictObject({
  currentPassword: presentedPassword,
  newPassword,
});
export const deleteAccountBody = z.strictObject({ password: presentedPassword });

// ---------- workspaces and projects ----------
export const createWorkspaceBody = z.strictObject({ name });

export const createProjectBody = z.strictObject({
  name,
  workspaceId: objectId.optional(),
  description: z.string().max(LIMITS.descriptionMax).optional(),
});
export const updateProjectBody = z
  .strictObject({
    name: name.optional(),
    description: z.string().max(LIMITS.descriptionMax).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to update');

export const addMemberBody = z.strictObject({ email, role: projectRole.default('member') });
export const updateMemberBody = z.strictObject({ role: projectRole });

// ---------- tasks ----------
const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const subtaskInput = z.strictObject({
  title: z.string().trim().min(1).max(LIMITS.titleMax),
  done: z.boolean().default(false),
});

const taskFields = {
  title: z.string().trim().min(1, 'must not be empty').max(LIMITS.titleMax),
  description: z.string().max(LIMITS.descriptionMax),
  status: taskStatus,
  priority: taskPriority,
  assignee: objectId.nullable(),
  dueDate: isoDate.nullable(),
  labels: z.array(z.string().trim().min(1).max(LIMITS.labelMax)).max(LIMITS.labelsMax),
  subtasks: z.array(subtaskInput).max(LIMITS.subtasksMax),
};

export const createTaskBody = z.strictObject({
  title: taskFields.title,
  description: taskFields.description.optional(),
  status: taskFields.status.optional(),
  priority: taskFields.priority.optional(),
  assignee: taskFields.assignee.optional(),
  dueDate: taskFields.dueDate.optional(),
  labels: taskFields.labels.optional(),
  subtasks: taskFields.subtasks.optional(),
});

/** Fields a task update may change (status changes go through move, which also sets position). */
const updatableTaskFields = {
  title: taskFields.title.optional(),
  description: taskFields.description.optional(),
  priority: taskFields.priority.optional(),
  assignee: taskFields.assignee.optional(),
  dueDate: taskFields.dueDate.optional(),
  labels: taskFields.labels.optional(),
  subtasks: taskFields.subtasks.optional(),
};

export const taskUpdates = z
  .strictObject(updatableTaskFields)
  .refine((u) => Object.keys(u).length > 0, 'nothing to update');

const version = z.number().int().min(0);

export const updateTaskBody = z
  .strictObject({ version: version.optional(), ...updatableTaskFields })
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), 'nothing to update');

/** A move names its neighbours in the target column, or the index it should land at. */
export const moveTaskBody = z.strictObject({
  status: taskStatus,
  beforeId: objectId.nullable().optional(),
  afterId: objectId.nullable().optional(),
  index: z.number().int().min(0).optional(),
  version: version.optional(),
});

export const listTasksQuery = z.strictObject({
  status: taskStatus.optional(),
  assignee: objectId.optional(),
});

// ---------- chat ----------
export const createChannelBody = z.strictObject({
  name: z
    .string()
    .trim()
    .toLowerCase()
    .min(1)
    .max(80)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, - and _'),
});
export const messageContent = z.string().trim().min(1, 'must not be empty').max(LIMITS.messageMax);
export const postMessageBody = z.strictObject({ content: messageContent });
export const editMessageBody = z.strictObject({ content: messageContent });
export const listMessagesQuery = z.strictObject({
  before: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
});

// ---------- socket payloads ----------
const clientId = z.string().min(1).max(100);

export const joinProjectPayload = z.union([
  objectId.transform((projectId) => ({ projectId, sinceSeq: undefined as number | undefined })),
  z.strictObject({ projectId: objectId, sinceSeq: z.number().int().min(0).optional() }),
]);
export const projectIdPayload = objectId;
export const taskCreatePayload = z.strictObject({
  projectId: objectId,
  task: createTaskBody,
  clientId: clientId.optional(),
});
export const taskUpdatePayload = z.strictObject({
  projectId: objectId,
  taskId: objectId,
  updates: taskUpdates,
  version: version.optional(),
  clientId: clientId.optional(),
});
export const taskMovePayload = z.strictObject({
  projectId: objectId,
  taskId: objectId,
  fromStatus: taskStatus.optional(),
  toStatus: taskStatus,
  newIndex: z.number().int().min(0).optional(),
  beforeId: objectId.nullable().optional(),
  afterId: objectId.nullable().optional(),
  version: version.optional(),
  clientId: clientId.optional(),
});
export const taskDeletePayload = z.strictObject({
  projectId: objectId,
  taskId: objectId,
  clientId: clientId.optional(),
});
export const channelIdPayload = objectId;
export const chatMessagePayload = z.strictObject({
  channelId: objectId,
  content: messageContent,
  clientId: clientId.optional(),
});
export const chatTypingPayload = z.strictObject({ channelId: objectId, isTyping: z.boolean() });

export type RegisterBody = z.infer<typeof registerBody>;
export type LoginBody = z.infer<typeof loginBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
export type DeleteAccountBody = z.infer<typeof deleteAccountBody>;
export type CreateProjectBody = z.infer<typeof createProjectBody>;
export type UpdateProjectBody = z.infer<typeof updateProjectBody>;
export type AddMemberBody = z.infer<typeof addMemberBody>;
export type CreateTaskBody = z.infer<typeof createTaskBody>;
export type TaskUpdates = z.infer<typeof taskUpdates>;
export type UpdateTaskBody = z.infer<typeof updateTaskBody>;
export type MoveTaskBody = z.infer<typeof moveTaskBody>;
export type ListTasksQuery = z.infer<typeof listTasksQuery>;
export type ListMessagesQuery = z.infer<typeof listMessagesQuery>;
export type JoinProjectPayload = z.infer<typeof joinProjectPayload>;
export type TaskCreatePayload = z.infer<typeof taskCreatePayload>;
export type TaskUpdatePayload = z.infer<typeof taskUpdatePayload>;
export type TaskMovePayload = z.infer<typeof taskMovePayload>;
export type TaskDeletePayload = z.infer<typeof taskDeletePayload>;
export type ChatMessagePayload = z.infer<typeof chatMessagePayload>;
export type ChatTypingPayload = z.infer<typeof chatTypingPayload>;
