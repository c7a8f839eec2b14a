import mongoose, { Schema, type Types } from 'mongoose';
import {
  LIMITS,
  TASK_PRIORITIES,
  TASK_STATUSES,
  type TaskDTO,
  type TaskPriority,
  type TaskStatus,
} from '@collabflow/shared';

export interface SubtaskDoc {
  _id: Types.ObjectId;
  title: string;
  done: boolean;
}

export interface TaskDoc {
  _id: Types.ObjectId;
  projectId: Types.ObjectId;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  assignee: Types.ObjectId | null;
  dueDate: Date | null;
  labels: string[];
  subtasks: SubtaskDoc[];
  /** Fractional index within the status column; unique per column, so the order is strict. */
  position: string;
  version: number;
  createdBy: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

const subtaskSchema = new Schema<SubtaskDoc>({
  title: { type: String, required: true, maxlength: LIMITS.titleMax },
  done: { type: Boolean, default: false },
});

const taskSchema = new Schema<TaskDoc>(
  {
    projectId: { type: Schema.Types.ObjectId, ref: 'Project', required: true },
    title: { type: String, required: true, trim: true, maxlength: LIMITS.titleMax },
    description: { type: String, default: '', maxlength: LIMITS.descriptionMax },
    status: { type: String, enum: TASK_STATUSES, default: 'todo' },
    priority: { type: String, enum: TASK_PRIORITIES, default: 'medium' },
    assignee: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    dueDate: { type: Date, default: null },
    labels: { type: [String], default: [] },
    subtasks: { type: [subtaskSchema], default: [] },
    position: { type: String, required: true },
    version: { type: Number, default: 0 },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: true },
);
// The board query (project, ordered by status then position) and the uniqueness of a position.
taskSchema.index({ projectId: 1, status: 1, position: 1 }, { unique: true });
// The assignee filter.
taskSchema.index({ projectId: 1, assignee: 1 });

export const Task = mongoose.model<TaskDoc>('Task', taskSchema);

export function toTaskDTO(t: TaskDoc): TaskDTO {
  return {
    id: t._id.toString(),
    projectId: t.projectId.toString(),
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    assignee: t.assignee ? t.assignee.toString() : null,
    dueDate: t.dueDate ? t.dueDate.toISOString() : null,
    labels: [...t.labels],
    subtasks: t.subtasks.map((s) => ({ id: s._id.toString(), title: s.title, done: s.done })),
    position: t.position,
    version: t.version,
    createdBy: t.createdBy.toString(),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}
