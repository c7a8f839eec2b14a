import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';

type User = Awaited<ReturnType<typeof registerUser>>;

describe('projects, members and access', () => {
  let t: TestApi;
  let api: ReturnType<typeof client>;
  let owner: User;
  let admin: User;
  let member: User;
  let viewer: User;
  let outsider: User;
  let projectId: string;
  let taskId: string;
  let channelId: string;
  let ownerMessageId: string;
  let memberMessageId: string;

  beforeAll(async () => {
    t = await startApi();
    api = client(t.url);
    [owner, admin, member, viewer, outsider] = await Promise.all([
      registerUser(api, 'Owner'),
      registerUser(api, 'Admin'),
      registerUser(api, 'Member'),
      registerUser(api, 'Viewer'),
      registerUser(api, 'Outsider'),
    ]);
    const p = await api.post('/api/projects', { name: 'Access', description: 'd' }, owner.token);
    expect(p.status).toBe(201);
    projectId = p.body.project.id;
    for (const [u, role] of [
      [admin, 'admin'],
      [member, 'member'],
      [viewer, 'viewer'],
    ] as const) {
      const r = await api.post(
        `/api/projects/${projectId}/members`,
        { email: u.user.email, role },
        owner.token,
      );
      expect(r.status).toBe(201);
    }
    const task = await api.post(`/api/projects/${projectId}/tasks`, { title: 'T' }, owner.token);
    expect(task.status).toBe(201);
    taskId = task.body.task.id;
    const ch = await api.get(`/api/projects/${projectId}/channels`, owner.token);
    channelId = ch.body.channels[0].id;
    const m1 = await api.post(
      `/api/channels/${channelId}/messages`,
      { content: 'hi' },
      owner.token,
    );
    ownerMessageId = m1.body.message.id;
    const m2 = await api.post(
      `/api/channels/${channelId}/messages`,
      { content: 'mine' },
      member.token,
    );
    memberMessageId = m2.body.message.id;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Every project-scoped route, as [label, method, path, body]. Reads first. */
  function reads(): [string, string, string][] {
    return [
      ['get project', 'GET', `/api/projects/${projectId}`],
      ['list members', 'GET', `/api/projects/${projectId}/members`],
      ['list tasks', 'GET', `/api/projects/${projectId}/tasks`],
      ['get task', 'GET', `/api/tasks/${taskId}`],
      ['list channels', 'GET', `/api/projects/${projectId}/channels`],
      ['list messages', 'GET', `/api/channels/${channelId}/messages`],
    ];
  }
  function mutations(): [string, string, string, unknown][] {
    return [
      ['patch project', 'PATCH', `/api/projects/${projectId}`, { name: 'Renamed' }],
      ['delete project', 'DELETE', `/api/projects/${projectId}`, undefined],
      [
        'add member',
        'POST',
        `/api/projects/${projectId}/members`,
        { email: outsider.user.email, role: 'member' },
      ],
      [
        'patch member',
        'PATCH',
        `/api/projects/${projectId}/members/${member.user.id}`,
        { role: 'viewer' },
      ],
      [
        'remove member',
        'DELETE',
        `/api/projects/${projectId}/members/${member.user.id}`,
        undefined,
      ],
      ['create task', 'POST', `/api/projects/${projectId}/tasks`, { title: 'X' }],
      ['patch task', 'PATCH', `/api/tasks/${taskId}`, { title: 'Y' }],
      ['move task', 'POST', `/api/tasks/${taskId}/move`, { status: 'done' }],
      ['delete task', 'DELETE', `/api/tasks/${taskId}`, undefined],
      ['create channel', 'POST', `/api/projects/${projectId}/channels`, { name: 'random' }],
      ['post message', 'POST', `/api/channels/${channelId}/messages`, { content: 'x' }],
      ['edit message', 'PATCH', `/api/messages/${ownerMessageId}`, { content: 'edited' }],
      ['delete message', 'DELETE', `/api/messages/${ownerMessageId}`, undefined],
    ];
  }

  async function snapshot() {
    const [project, members, tasks, channels, messages] = await Promise.all([
      api.get(`/api/projects/${projectId}`, owner.token),
      api.get(`/api/projects/${projectId}/members`, owner.token),
      api.get(`/api/projects/${projectId}/tasks`, owner.token),
      api.get(`/api/projects/${projectId}/channels`, owner.token),
      api.get(`/api/channels/${channelId}/messages`, owner.token),
    ]);
    return {
      project: project.body,
      members: members.body,
      tasks: tasks.body,
      channels: channels.body,
      messages: messages.body,
    };
  }

  it('a non-member gets 404 not_found on every project-scoped route, and nothing changes', async () => {
    const before = await snapshot();
    for (const [what, method, path] of reads()) {
      const r = await api.call(method, path, { token: outsider.token });
      expect(r.status, what).toBe(404);
      expect(r.body.error.code, what).toBe('not_found');
    }
    for (const [what, method, path, body] of mutations()) {
      const r = await api.call(method, path, { token: outsider.token, body });
      expect(r.status, what).toBe(404);
      expect(r.body.error.code, what).toBe('not_found');
    }
    // Leaving a project one is not in is a 404 too.
    const leave = await api.del(
      `/api/projects/${projectId}/members/${outsider.user.id}`,
      outsider.token,
    );
    expect(leave.status).toBe(404);
    expect(await snapshot()).toEqual(before);
    const mine = await api.get('/api/projects', outsider.token);
    expect(mine.body.projects).toEqual([]);
  });

  it('a 404 for a project that exists is the same as for one that does not', async () => {
    const real = await api.get(`/api/projects/${projectId}`, outsider.token);
    const missing = await api.get(`/api/projects/${'0'.repeat(24)}`, outsider.token);
    expect(real.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(real.body.error.code).toBe(missing.body.error.code);
  });

  it('a viewer reads everything (200) and every mutation is 403 forbidden; nothing changes', async () => {
    const before = await snapshot();
    for (const [what, method, path] of reads()) {
      const r = await api.call(method, path, { token: viewer.token });
      expect(r.status, what).toBe(200);
    }
    for (const [what, method, path, body] of mutations()) {
      const r = await api.call(method, path, { token: viewer.token, body });
      expect(r.status, what).toBe(403);
      expect(r.body.error.code, what).toBe('forbidden');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('the viewer sees the project with role viewer in their list', async () => {
    const r = await api.get('/api/projects', viewer.token);
    expect(r.status).toBe(200);
    expect(r.body.projects.map((p: { id: string; role: string }) => [p.id, p.role])).toEqual([
      [projectId, 'viewer'],
    ]);
  });

  it('members list shows every member with their role', async () => {
    const r = await api.get(`/api/projects/${projectId}/members`, member.token);
    expect(r.status).toBe(200);
    const roles = Object.fromEntries(
      r.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role]),
    );
    expect(roles).toEqual({
      [owner.user.id]: 'owner',
      [admin.user.id]: 'admin',
      [member.user.id]: 'member',
      [viewer.user.id]: 'viewer',
    });
  });

  it('a member edits and deletes only their own messages', async () => {
    const other = await api.patch(
      `/api/messages/${ownerMessageId}`,
      { content: 'hijack' },
      member.token,
    );
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');
    const otherDel = await api.del(`/api/messages/${ownerMessageId}`, member.token);
    expect(otherDel.status).toBe(403);
    // Not even an admin or the owner may edit someone else's message.
    const byOwner = await api.patch(
      `/api/messages/${memberMessageId}`,
      { content: 'owner edit' },
      owner.token,
    );
    expect(byOwner.status).toBe(403);

    const own = await api.patch(
      `/api/messages/${memberMessageId}`,
      { content: 'mine, edited' },
      member.token,
    );
    expect(own.status).toBe(200);
    expect(own.body.message).toMatchObject({ content: 'mine, edited', edited: true });

    const list = await api.get(`/api/channels/${channelId}/messages`, owner.token);
    const byId = new Map(
      list.body.messages.map((m: { id: string; content: string }) => [m.id, m.content]),
    );
    expect(byId.get(ownerMessageId)).toBe('hi');
    expect(byId.get(memberMessageId)).toBe('mine, edited');
  });

  it('an admin may rename the project and manage members but not delete the project', async () => {
    const patch = await api.patch(`/api/projects/${projectId}`, { name: 'Renamed' }, admin.token);
    expect(patch.status).toBe(200);
    expect(patch.body.project.name).toBe('Renamed');

    const del = await api.del(`/api/projects/${projectId}`, admin.token);
    expect(del.status).toBe(403);
    expect(del.body.error.code).toBe('forbidden');
    expect((await api.get(`/api/projects/${projectId}`, owner.token)).status).toBe(200);

    // A member may not manage members or rename.
    const byMember = await api.patch(`/api/projects/${projectId}`, { name: 'No' }, member.token);
    expect(byMember.status).toBe(403);
    const addByMember = await api.post(
      `/api/projects/${projectId}/members`,
      { email: outsider.user.email, role: 'member' },
      member.token,
    );
    expect(addByMember.status).toBe(403);

    // An admin may not hand out the owner role.
    const makeOwner = await api.patch(
      `/api/projects/${projectId}/members/${viewer.user.id}`,
      { role: 'owner' },
      admin.token,
    );
    expect(makeOwner.status).toBe(403);
  });

  it('member management: add, duplicate, unknown email, change role, remove, leave, last owner', async () => {
    const add = await api.post(
      `/api/projects/${projectId}/members`,
      { email: outsider.user.email, role: 'viewer' },
      admin.token,
    );
    expect(add.status).toBe(201);
    expect(add.body.member).toMatchObject({
      projectId,
      userId: outsider.user.id,
      role: 'viewer',
    });
    expect((await api.get(`/api/projects/${projectId}`, outsider.token)).status).toBe(200);

    const dup = await api.post(
      `/api/projects/${projectId}/members`,
      { email: outsider.user.email, role: 'member' },
      admin.token,
    );
    expect(dup.status).toBe(409);
    const unknown = await api.post(
      `/api/projects/${projectId}/members`,
      { email: 'nobody-here@example.test', role: 'member' },
      admin.token,
    );
    expect(unknown.status).toBe(404);
    const badRole = await api.post(
      `/api/projects/${projectId}/members`,
      { email: outsider.user.email, role: 'superuser' },
      admin.token,
    );
    expect(badRole.status).toBe(400);

    const promote = await api.patch(
      `/api/projects/${projectId}/members/${outsider.user.id}`,
      { role: 'member' },
      admin.token,
    );
    expect(promote.status).toBe(200);
    expect(promote.body.member.role).toBe('member');
    const task = await api.post(
      `/api/projects/${projectId}/tasks`,
      { title: 'by the new member' },
      outsider.token,
    );
    expect(task.status).toBe(201);

    const remove = await api.del(
      `/api/projects/${projectId}/members/${outsider.user.id}`,
      admin.token,
    );
    expect(remove.status).toBe(204);
    expect((await api.get(`/api/projects/${projectId}`, outsider.token)).status).toBe(404);
    const again = await api.del(
      `/api/projects/${projectId}/members/${outsider.user.id}`,
      admin.token,
    );
    expect(again.status).toBe(404);

    // Anyone may leave; a viewer leaving themselves is fine.
    await api.post(
      `/api/projects/${projectId}/members`,
      { email: outsider.user.email, role: 'viewer' },
      owner.token,
    );
    const leave = await api.del(
      `/api/projects/${projectId}/members/${outsider.user.id}`,
      outsider.token,
    );
    expect(leave.status).toBe(204);
    expect((await api.get(`/api/projects/${projectId}`, outsider.token)).status).toBe(404);

    // The last owner can neither leave nor be demoted.
    const ownerLeaves = await api.del(
      `/api/projects/${projectId}/members/${owner.user.id}`,
      owner.token,
    );
    expect(ownerLeaves.status).toBe(409);
    expect(ownerLeaves.body.error.code).toBe('last_owner');
    const demote = await api.patch(
      `/api/projects/${projectId}/members/${owner.user.id}`,
      { role: 'admin' },
      owner.token,
    );
    expect(demote.status).toBe(409);
    expect((await api.get(`/api/projects/${projectId}`, owner.token)).body.project.role).toBe(
      'owner',
    );
  });

  it('project CRUD: create (owner role, general channel), list, patch, validation', async () => {
    const created = await api.post('/api/projects', { name: '  Second  ' }, member.token);
    expect(created.status).toBe(201);
    expect(created.body.project).toMatchObject({
      name: 'Second',
      description: '',
      ownerId: member.user.id,
      role: 'owner',
      seq: 0,
      workspaceId: null,
    });
    const id = created.body.project.id;
    const channels = await api.get(`/api/projects/${id}/channels`, member.token);
    expect(channels.body.channels.map((c: { name: string }) => c.name)).toEqual(['general']);

    const list = await api.get('/api/projects', member.token);
    expect(list.body.projects.map((p: { id: string }) => p.id)).toEqual([projectId, id]);

    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', owner: 'x' }]) {
      const r = await api.post('/api/projects', body, member.token);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
    }
    const emptyPatch = await api.patch(`/api/projects/${id}`, {}, member.token);
    expect(emptyPatch.status).toBe(400);
    const patched = await api.patch(`/api/projects/${id}`, { description: 'about' }, member.token);
    expect(patched.status).toBe(200);
    expect(patched.body.project).toMatchObject({ name: 'Second', description: 'about' });
  });

  it('projects in a workspace: own workspace ok, someone else’s is 404', async () => {
    const ws = await api.post('/api/workspaces', { name: 'WS' }, member.token);
    expect(ws.status).toBe(201);
    const p = await api.post(
      '/api/projects',
      { name: 'In WS', workspaceId: ws.body.workspace.id },
      member.token,
    );
    expect(p.status).toBe(201);
    expect(p.body.project.workspaceId).toBe(ws.body.workspace.id);
    const foreign = await api.post(
      '/api/projects',
      { name: 'Foreign', workspaceId: ws.body.workspace.id },
      outsider.token,
    );
    expect(foreign.status).toBe(404);
    const list = await api.get('/api/workspaces', member.token);
    expect(list.body.workspaces.map((w: { id: string }) => w.id)).toContain(ws.body.workspace.id);
  });

  it('only the owner deletes a project, and then it is gone with its tasks and channels', async () => {
    const p = await api.post('/api/projects', { name: 'Doomed' }, owner.token);
    const id = p.body.project.id;
    await api.post(
      `/api/projects/${id}/members`,
      { email: admin.user.email, role: 'admin' },
      owner.token,
    );
    const task = await api.post(`/api/projects/${id}/tasks`, { title: 'gone soon' }, owner.token);
    const channels = await api.get(`/api/projects/${id}/channels`, owner.token);
    const general = channels.body.channels[0].id;

    expect((await api.del(`/api/projects/${id}`, admin.token)).status).toBe(403);
    const del = await api.del(`/api/projects/${id}`, owner.token);
    expect(del.status).toBe(204);
    expect((await api.get(`/api/projects/${id}`, owner.token)).status).toBe(404);
    expect((await api.get(`/api/tasks/${task.body.task.id}`, owner.token)).status).toBe(404);
    expect((await api.get(`/api/channels/${general}/messages`, owner.token)).status).toBe(404);
    expect((await api.get(`/api/projects/${id}`, admin.token)).status).toBe(404);
    const list = await api.get('/api/projects', admin.token);
    expect(list.body.projects.map((x: { id: string }) => x.id)).not.toContain(id);
  });
});
