import { channelIdPayload, chatMessagePayload, chatTypingPayload, rooms } from '@collabflow/shared';
import { AppError, parse } from '../core/errors.js';
import { NEEDS, requireProject } from '../projects/access.js';
import { joinIfConnected, type SocketModule } from '../realtime/handlers.js';
import type { ClientSocket } from '../realtime/types.js';
import { TypingTracker } from '../realtime/typing.js';
import * as chat from './chat.service.js';

const TYPING_TTL_MS = 5000;

/** `chat:join|leave|message|typing` ([S1], [P3]). */
export const chatSocket: SocketModule = (events, { ctx, limits, delivery }) => {
  const typingSockets = new Map<string, ClientSocket>();
  const typing = new TypingTracker(TYPING_TTL_MS, (socketId, channelId) => {
    const socket = typingSockets.get(socketId);
    if (socket) emitTyping(socket, channelId, false);
  });
  function emitTyping(socket: ClientSocket, channelId: string, isTyping: boolean) {
    socket.to(rooms.channel(channelId)).volatile.emit('chat:userTyping', {
      channelId,
      userId: socket.data.userId,
      user: socket.data.user,
      isTyping,
    });
  }

  events.on('chat:join', limits.read, async (socket, raw) => {
    const channelId = parse(channelIdPayload, raw, 'chat:join');
    const channel = await chat.loadChannel(channelId, socket.data.userId, NEEDS.read);
    delivery.trackChannel(channelId, channel.projectId.toString());
    joinIfConnected(socket, rooms.channel(channelId));
    const { messages } = await chat.listMessages(socket.data.userId, channelId, {});
    return { messages };
  });
  events.on('chat:leave', limits.read, async (socket, raw) => {
    const channelId = parse(channelIdPayload, raw, 'chat:leave');
    await socket.leave(rooms.channel(channelId));
    if (typing.set(socket.id, channelId, false)) emitTyping(socket, channelId, false);
    return null;
  });
  events.on('chat:message', limits.chat, async (socket, raw) => {
    const p = parse(chatMessagePayload, raw, 'chat:message');
    const { result } = await chat.postMessage(
      ctx,
      socket.data.userId,
      p.channelId,
      { content: p.content },
      p.clientId,
    );
    if (typing.set(socket.id, p.channelId, false)) emitTyping(socket, p.channelId, false);
    return { message: result };
  });
  events.on('chat:typing', limits.typing, async (socket, raw) => {
    const p = parse(chatTypingPayload, raw, 'chat:typing');
    // [P5] Typing is writing: a viewer is refused (forbidden), like chat:message; someone who
    // cannot see the channel gets not_found. In the channel room, the project is known here and
    // the role comes from the access cache; otherwise the channel is read to say which refusal.
    const projectId = socket.rooms.has(rooms.channel(p.channelId))
      ? delivery.projectOfChannel(p.channelId)
      : undefined;
    if (projectId === undefined) {
      await chat.loadChannel(p.channelId, socket.data.userId, NEEDS.write);
      throw new AppError(403, 'forbidden', 'join the channel (chat:join) before typing in it');
    }
    await requireProject(projectId, socket.data.userId, NEEDS.write);
    typingSockets.set(socket.id, socket);
    typing.set(socket.id, p.channelId, p.isTyping);
    emitTyping(socket, p.channelId, p.isTyping);
    return null;
  });

  return {
    disconnect(socket) {
      for (const channelId of typing.clear(socket.id)) emitTyping(socket, channelId, false);
      typingSockets.delete(socket.id);
    },
  };
};
