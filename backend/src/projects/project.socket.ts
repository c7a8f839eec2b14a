import {
  joinProjectPayload,
  projectIdPayload,
  rooms,
  type AnyDomainEvent,
  type PublicUserDTO,
} from '@collabflow/shared';
import { parse } from '../core/errors.js';
import { staffRoom, type Notifier } from '../realtime/delivery.js';
import { joinIfConnected, type SocketModule } from '../realtime/handlers.js';
import { NEEDS, eventFor, requireProject, seesMemberEmails } from './access.js';
import { currentSeq } from './events.js';

/** A member added to a project hears about it in their user room. */
export const memberNotifier: Notifier = (event) =>
  event.type === 'member:added'
    ? [
        {
          userId: event.data.member.userId,
          notification: {
            kind: 'project:added',
            message: `You were added to a project as ${event.data.member.role}`,
            projectId: event.projectId,
          },
        },
      ]
    : [];

/** `join:project` and `leave:project`: the project room, presence and resume ([E4], [E6], [P1], [P4]). */
export const projectSocket: SocketModule = (events, { ctx, limits, presence, eventLog }) => {
  events.on('join:project', limits.read, async (socket, raw) => {
    const { projectId, sinceSeq } = parse(joinProjectPayload, raw, 'join:project');
    const { role } = await requireProject(projectId, socket.data.userId, NEEDS.read);
    // In the room first, then the seq ([E6]): every event after `seq` reaches the socket live,
    // and `missed` covers everything up to it, so nothing falls between.
    const room = rooms.project(projectId);
    const wasIn = socket.rooms.has(room);
    joinIfConnected(socket, room);
    if (seesMemberEmails(role)) joinIfConnected(socket, staffRoom(projectId));
    else void socket.leave(staffRoom(projectId));
    let seq: number;
    try {
      seq = await currentSeq(ctx, projectId);
    } catch (err) {
      if (!wasIn) {
        void socket.leave(room);
        void socket.leave(staffRoom(projectId));
      }
      throw err;
    }
    await presence.join(socket, projectId);
    const users = await presence.online(projectId, [socket.data.user]);
    socket.emit('room:users', { projectId, users });
    const result: {
      seq: number;
      users: PublicUserDTO[];
      missed?: AnyDomainEvent[];
      resync?: boolean;
    } = { seq, users };
    if (sinceSeq !== undefined) {
      const missed = await eventLog.since(projectId, sinceSeq, seq).catch(() => null);
      if (missed) result.missed = missed.map((e) => eventFor(e, role));
      else result.resync = true;
    }
    return result;
  });

  events.on('leave:project', limits.read, async (socket, raw) => {
    const projectId = parse(projectIdPayload, raw, 'leave:project');
    await socket.leave(rooms.project(projectId));
    await socket.leave(staffRoom(projectId));
    await presence.leave(socket.id, projectId);
    return null;
  });
};
