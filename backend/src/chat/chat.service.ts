import { Types } from 'mongoose';
import {
  createChannelBody,
  editMessageBody,
  listMessagesQuery,
  postMessageBody,
  type ChannelDTO,
  type MessageDTO,
} from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { AppError, errors, parse } from '../core/errors.js';
import { NEEDS, requireProject, toObjectId } from '../projects/access.js';
import { changeProject } from '../projects/events.js';
import { User, toPublicUser } from '../auth/user.model.js';
import { Channel, toChannelDTO, type ChannelDoc } from './channel.model.js';
import { Message, type MessageDoc } from './message.model.js';
import type { Mutation } from '../tasks/task.service.js';

const DELETED_USER = { name: 'deleted user', avatarColor: '#6b7280' };

async function toMessageDTOs(messages: MessageDoc[]): Promise<MessageDTO[]> {
  const ids = [...new Set(messages.map((m) => m.senderId.toString()))].map(
    (id) => new Types.ObjectId(id),
  );
  const users = ids.length
    ? await User.find({ _id: { $in: ids } }, { name: 1, avatarColor: 1 }).lean()
    : [];
  const byId = new Map(users.map((u) => [u._id.toString(), toPublicUser(u)]));
  return messages.map((m) => {
    const dto: MessageDTO = {
      id: m._id.toString(),
      channelId: m.channelId.toString(),
      projectId: m.projectId.toString(),
      content: m.deleted ? '' : m.content,
      sender: byId.get(m.senderId.toString()) ?? { id: m.senderId.toString(), ...DELETED_USER },
      edited: m.edited,
      deleted: m.deleted,
      seq: m.seq,
      createdAt: m.createdAt.toISOString(),
      updatedAt: m.updatedAt.toISOString(),
    };
    if (m.clientId) dto.clientId = m.clientId;
    return dto;
  });
}

/** Loads a channel and checks the caller's role in its project; 404 for channels they cannot see. */
export async function loadChannel(
  channelId: string,
  userId: string,
  needed: 'viewer' | 'member',
): Promise<ChannelDoc> {
  const channel = await Channel.findById(toObjectId(channelId, 'channel')).lean<ChannelDoc>();
  if (!channel) throw errors.notFound('channel');
  try {
    await requireProject(channel.projectId.toString(), userId, needed);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw errors.notFound('channel');
    throw err;
  }
  return channel;
}

export async function listChannels(userId: string, projectId: string): Promise<ChannelDTO[]> {
  await requireProject(projectId, userId, NEEDS.read);
  const channels = await Channel.find({ projectId: new Types.ObjectId(projectId) })
    .sort({ createdAt: 1 })
    .lean();
  return channels.map(toChannelDTO);
}

export async function createChannel(
  ctx: ServiceContext,
  userId: string,
  projectId: string,
  body: unknown,
): Promise<ChannelDTO> {
  await requireProject(projectId, userId, NEEDS.write);
  const input = parse(createChannelBody, body, 'channel');
  const pid = new Types.ObjectId(projectId);
  const { result } = await changeProject(ctx, projectId, async () => {
    // The name check and the insert are on the project's write path: no two "general"s.
    if (await Channel.exists({ projectId: pid, name: input.name })) {
      throw errors.conflict(
        'channel_exists',
        `the project already has a channel named ${input.name}`,
      );
    }
    const channel = new Channel({
      projectId: pid,
      name: input.name,
      createdBy: new Types.ObjectId(userId),
    });
    const now = new Date();
    channel.set({ createdAt: now, updatedAt: now });
    const dto = toChannelDTO(channel.toObject());
    return {
      event: { type: 'channel:created', actor: userId, data: { channel: dto } },
      landed: { collection: Channel.collection.name, filter: { _id: channel._id }, exists: true },
      apply: async () => {
        await channel.save({ timestamps: false });
      },
      result: dto,
    };
  });
  return result;
}

/**
 * Newest first, in seq order (the order every client shows). `nextCursor` is an opaque cursor to
 * pass as `before` for the next (older) page, or null at the start of the channel.
 */
export async function listMessages(
  userId: string,
  channelId: string,
  query: unknown,
): Promise<{ messages: MessageDTO[]; nextCursor: string | null }> {
  const channel = await loadChannel(channelId, userId, NEEDS.read);
  const q = parse(listMessagesQuery, query, 'query');
  const filter: Record<string, unknown> = { channelId: channel._id };
  if (q.before !== undefined) {
    if (!/^\d{1,15}$/.test(q.before))
      throw errors.validation('invalid query: before: not a cursor from this API');
    filter.seq = { $lt: Number(q.before) };
  }
  const page = await Message.find(filter)
    .sort({ seq: -1 })
    .limit(q.limit + 1)
    .lean<MessageDoc[]>();
  const hasMore = page.length > q.limit;
  const messages = await toMessageDTOs(page.slice(0, q.limit));
  const oldest = page[Math.min(page.length, q.limit) - 1];
  return { messages, nextCursor: hasMore && oldest ? String(oldest.seq) : null };
}

export async function postMessage(
  ctx: ServiceContext,
  userId: string,
  channelId: string,
  body: unknown,
  clientId?: string,
): Promise<Mutation<MessageDTO>> {
  // The channel (with the caller's role) and the sender's public profile, read at once and
  // before taking the project's turn: nothing in them needs the lease.
  const senderId = new Types.ObjectId(userId);
  const [channel, sender] = await Promise.all([
    loadChannel(channelId, userId, NEEDS.write),
    senderProfile(senderId),
  ]);
  const input = parse(postMessageBody, body, 'message');
  const projectId = channel.projectId.toString();
  return changeProject(ctx, projectId, async (seq) => {
    // The message stores the seq of its event, so history and live events agree on order.
    const now = new Date();
    const doc = new Message({
      seq,
      channelId: channel._id,
      projectId: channel.projectId,
      senderId,
      content: input.content,
      clientId: clientId ?? null,
      createdAt: now,
      updatedAt: now,
    });
    const message: MessageDTO = {
      id: doc._id.toString(),
      channelId: channel._id.toString(),
      projectId,
      content: input.content,
      sender,
      edited: false,
      deleted: false,
      seq,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      ...(clientId ? { clientId } : {}),
    };
    return {
      event: { type: 'chat:newMessage', actor: userId, data: message, clientId },
      landed: { collection: Message.collection.name, filter: { _id: doc._id }, exists: true },
      apply: async () => {
        await doc.save({ timestamps: false });
      },
      result: message,
    };
  });
}

/** The public profile shown with a message (a placeholder for a deleted account). */
async function senderProfile(id: Types.ObjectId): Promise<MessageDTO['sender']> {
  const u = await User.findById(id, { name: 1, avatarColor: 1 }).lean();
  return u ? toPublicUser(u) : { id: id.toString(), ...DELETED_USER };
}

async function loadOwnMessage(messageId: string, userId: string): Promise<MessageDoc> {
  const msg = await Message.findById(toObjectId(messageId, 'message')).lean<MessageDoc>();
  if (!msg || msg.deleted) throw errors.notFound('message');
  await loadChannel(msg.channelId.toString(), userId, NEEDS.write).catch((err: unknown) => {
    throw err instanceof AppError && err.status === 404 ? errors.notFound('message') : err;
  });
  if (msg.senderId.toString() !== userId)
    throw errors.forbidden('you can only change your own messages');
  return msg;
}

export async function editMessage(
  ctx: ServiceContext,
  userId: string,
  messageId: string,
  body: unknown,
): Promise<MessageDTO> {
  const found = await loadOwnMessage(messageId, userId);
  const input = parse(editMessageBody, body, 'message');
  const { result } = await changeProject(ctx, found.projectId.toString(), async () => {
    const msg = await Message.findById(found._id).lean<MessageDoc>();
    if (!msg || msg.deleted) throw errors.notFound('message');
    const updatedAt = new Date();
    const [dto] = await toMessageDTOs([
      { ...msg, content: input.content, edited: true, updatedAt },
    ]);
    if (!dto) throw errors.notFound('message');
    return {
      event: { type: 'chat:messageUpdated', actor: userId, data: dto },
      landed: {
        collection: Message.collection.name,
        filter: { _id: msg._id, edited: true, updatedAt },
        exists: true,
      },
      apply: async () => {
        await Message.updateOne(
          { _id: msg._id },
          { $set: { content: input.content, edited: true, updatedAt } },
          { timestamps: false },
        );
      },
      result: dto,
    };
  });
  return result;
}

/** Soft delete: the message stays in history as "deleted" so pages and cursors stay stable. */
export async function deleteMessage(
  ctx: ServiceContext,
  userId: string,
  messageId: string,
): Promise<void> {
  const msg = await loadOwnMessage(messageId, userId);
  await changeProject(ctx, msg.projectId.toString(), async () => {
    if (!(await Message.exists({ _id: msg._id, deleted: false }))) throw errors.notFound('message');
    return {
      event: {
        type: 'chat:messageDeleted',
        actor: userId,
        data: { messageId: msg._id.toString(), channelId: msg.channelId.toString() },
      },
      landed: {
        collection: Message.collection.name,
        filter: { _id: msg._id, deleted: true },
        exists: true,
      },
      apply: async () => {
        await Message.updateOne({ _id: msg._id }, { $set: { deleted: true, content: '' } });
      },
      result: null,
    };
  });
}
