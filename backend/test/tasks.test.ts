import { TASK_STATUSES, type AnyDomainEvent, type TaskStatus } from '@collabflow/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, registerUser, startApi, type TestApi } from './helpers/api.js';
import { mulberry32 } from './helpers/random.js';

type User = Awaited<ReturnType<typeof registerUser>>;
interface Task {
  id: string;
  title: string;
  status: TaskStatus;
  position: string;
  version: number;
  [k: string]: unknown;
}

describe('tasks', () => {
  let t: TestApi;
  let api: ReturnType<typeof client>;
  let alice: User;
  let bob: User;
  let projectId: string;

  const create = async (body: Record<string, unknown>, token = alice.token, pid = projectId) => {
    const r = await api.post(`/api/projects/${pid}/tasks`, body, token);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.task as Task;
  };
  const listTasks = async (pid = projectId, query = '') => {
    const r = await api.get(`/api/projects/${pid}/tasks${query}`, alice.token);
    expect(r.status).toBe(200);
    return r.body.tasks as Task[];
  };
  const column = async (status: TaskStatus, pid = projectId) =>
    (await listTasks(pid)).filter((x) => x.status === status);
  const move = (id: string, body: Record<string, unknown>, token = alice.token) =>
    api.post(`/api/tasks/${id}/move`, body, token);

  beforeAll(async () => {
    t = await startApi();
    api = client(t.url);
    [alice, bob] = await Promise.all([registerUser(api, 'Alice'), registerUser(api, 'Bob')]);
    const p = await api.post('/api/projects', { name: 'Board' }, alice.token);
    projectId = p.body.project.id;
    await api.post(
      `/api/projects/${projectId}/members`,
      { email: bob.user.email, role: 'member' },
      alice.token,
    );
  });
  afterAll(async () => {
    await t.close();
  });

  describe('create, read, update, delete', () => {
    it('creates a task with defaults and every optional field', async () => {
      const plain = await create({ title: '  Write tests  ' });
      expect(plain).toMatchObject({
        projectId,
        title: 'Write tests',
        description: '',
        status: 'todo',
        priority: 'medium',
        assignee: null,
        dueDate: null,
        labels: [],
        subtasks: [],
        version: 0,
        createdBy: alice.user.id,
      });
      expect(typeof plain.position).toBe('string');

      const full = await create({
        title: 'Full',
        description: 'all fields',
        status: 'review',
        priority: 'urgent',
        assignee: bob.user.id,
        dueDate: '2030-01-31',
        labels: ['a', 'b'],
        subtasks: [{ title: 'one' }, { title: 'two', done: true }],
      });
      expect(full).toMatchObject({
        status: 'review',
        priority: 'urgent',
        assignee: bob.user.id,
        labels: ['a', 'b'],
      });
      expect(full.dueDate).toBe('2030-01-31T00:00:00.000Z');
      expect(full.subtasks).toEqual([
        { id: expect.stringMatching(/^[a-f0-9]{24}$/), title: 'one', done: false },
        { id: expect.stringMatching(/^[a-f0-9]{24}$/), title: 'two', done: true },
      ]);
      const got = await api.get(`/api/tasks/${full.id}`, bob.token);
      expect(got.status).toBe(200);
      expect(got.body.task).toEqual(full);
    });

    it('appends new tasks at the end of their column', async () => {
      const a = await create({ title: 'a', status: 'done' });
      const b = await create({ title: 'b', status: 'done' });
      const c = await create({ title: 'c', status: 'done' });
      expect(a.position < b.position && b.position < c.position).toBe(true);
      const done = await column('done');
      expect(done.slice(-3).map((x) => x.id)).toEqual([a.id, b.id, c.id]);
    });

    it('title: 200 characters are fine, 201 are 400 validation_failed', async () => {
      const ok = await create({ title: 'x'.repeat(200) });
      expect(ok.title).toHaveLength(200);
      const tooLong = await api.post(
        `/api/projects/${projectId}/tasks`,
        { title: 'x'.repeat(201) },
        alice.token,
      );
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.code).toBe('validation_failed');
      const patchTooLong = await api.patch(
        `/api/tasks/${ok.id}`,
        { title: 'y'.repeat(201) },
        alice.token,
      );
      expect(patchTooLong.status).toBe(400);
      const patchOk = await api.patch(
        `/api/tasks/${ok.id}`,
        { title: 'y'.repeat(200) },
        alice.token,
      );
      expect(patchOk.status).toBe(200);
      expect(patchOk.body.task.title).toBe('y'.repeat(200));
    });

    it('rejects bad task bodies with 400 and creates nothing', async () => {
      const before = (await listTasks()).length;
      const bodies: unknown[] = [
        {},
        { title: '' },
        { title: '   ' },
        { title: 42 },
        { title: { $gt: '' } },
        { title: 'ok', status: 'blocked' },
        { title: 'ok', priority: 'meh' },
        { title: 'ok', assignee: 'nobody' },
        { title: 'ok', assignee: { $ne: null } },
        { title: 'ok', dueDate: 'tomorrow' },
        { title: 'ok', labels: Array.from({ length: 21 }, (_, i) => `l${i}`) },
        { title: 'ok', labels: [{ $gt: '' }] },
        { title: 'ok', subtasks: [{ title: 'x', extra: 1 }] },
        { title: 'ok', position: 'a0' },
        { title: 'ok', version: 3 },
        { title: 'ok', projectId },
        [{ title: 'array' }],
      ];
      for (const body of bodies) {
        const r = await api.post(`/api/projects/${projectId}/tasks`, body, alice.token);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code, JSON.stringify(body)).toBe('validation_failed');
      }
      // A well-formed id of someone who is not a member.
      const stranger = await api.post(
        `/api/projects/${projectId}/tasks`,
        { title: 'ok', assignee: 'a'.repeat(24) },
        alice.token,
      );
      expect(stranger.status).toBe(400);
      expect((await listTasks()).length).toBe(before);
    });

    it('updates fields, bumps version, and rejects status changes and empty updates', async () => {
      const task = await create({ title: 'update me' });
      const r = await api.patch(
        `/api/tasks/${task.id}`,
        {
          version: 0,
          title: 'updated',
          priority: 'high',
          assignee: bob.user.id,
          labels: ['x'],
          dueDate: null,
        },
        bob.token,
      );
      expect(r.status).toBe(200);
      expect(r.body.task).toMatchObject({
        title: 'updated',
        priority: 'high',
        assignee: bob.user.id,
        labels: ['x'],
        version: 1,
        position: task.position,
        status: 'todo',
      });
      const unassign = await api.patch(`/api/tasks/${task.id}`, { assignee: null }, alice.token);
      expect(unassign.body.task).toMatchObject({ assignee: null, version: 2 });

      for (const body of [{}, { version: 2 }, { status: 'done' }, { position: 'a0' }]) {
        const bad = await api.patch(`/api/tasks/${task.id}`, body, alice.token);
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error.code).toBe('validation_failed');
      }
      expect((await api.get(`/api/tasks/${task.id}`, alice.token)).body.task.version).toBe(2);
    });

    it('deletes a task: 204, then 404 everywhere', async () => {
      const task = await create({ title: 'delete me' });
      const del = await api.del(`/api/tasks/${task.id}`, bob.token);
      expect(del.status).toBe(204);
      expect((await api.get(`/api/tasks/${task.id}`, alice.token)).status).toBe(404);
      expect((await api.del(`/api/tasks/${task.id}`, alice.token)).status).toBe(404);
      expect((await api.patch(`/api/tasks/${task.id}`, { title: 'x' }, alice.token)).status).toBe(
        404,
      );
      expect((await move(task.id, { status: 'done' })).status).toBe(404);
      expect((await listTasks()).map((x) => x.id)).not.toContain(task.id);
    });
  });

  describe('filters', () => {
    let pid: string;
    beforeAll(async () => {
      const p = await api.post('/api/projects', { name: 'Filters' }, alice.token);
      pid = p.body.project.id;
      await api.post(
        `/api/projects/${pid}/members`,
        { email: bob.user.email, role: 'member' },
        alice.token,
      );
      await create({ title: 'f1', status: 'todo', assignee: bob.user.id }, alice.token, pid);
      await create({ title: 'f2', status: 'done', assignee: bob.user.id }, alice.token, pid);
      await create({ title: 'f3', status: 'done' }, alice.token, pid);
      await create({ title: 'f4', status: 'in-progress' }, alice.token, pid);
    });

    it('lists the board ordered by column (board order), then position', async () => {
      const all = await listTasks(pid);
      expect(all.map((x) => x.title)).toEqual(['f1', 'f4', 'f2', 'f3']);
      const rank = (s: string) => TASK_STATUSES.indexOf(s as TaskStatus);
      for (let i = 1; i < all.length; i++) {
        const a = all[i - 1]!;
        const b = all[i]!;
        expect(
          rank(a.status) < rank(b.status) || (a.status === b.status && a.position < b.position),
        ).toBe(true);
      }
    });

    it('filters by status and by assignee', async () => {
      expect((await listTasks(pid, '?status=done')).map((x) => x.title)).toEqual(['f2', 'f3']);
      expect((await listTasks(pid, `?assignee=${bob.user.id}`)).map((x) => x.title)).toEqual([
        'f1',
        'f2',
      ]);
      expect(
        (await listTasks(pid, `?status=done&assignee=${bob.user.id}`)).map((x) => x.title),
      ).toEqual(['f2']);
    });

    it('rejects operator objects, arrays, unknown keys and bad values in the query with 400', async () => {
      const queries = [
        '?status[$gt]=',
        '?status[$ne]=todo',
        '?assignee[$ne]=x',
        `?assignee[$in]=${bob.user.id}`,
        '?status=todo&status=done',
        '?status=blocked',
        '?assignee=nobody',
        '?projectId=x',
        '?%24where=1',
      ];
      for (const q of queries) {
        const r = await api.get(`/api/projects/${pid}/tasks${q}`, alice.token);
        expect(r.status, q).toBe(400);
        expect(r.body.error.code, q).toBe('validation_failed');
      }
    });
  });

  describe('optimistic concurrency', () => {
    it('a PATCH with a stale version is 409 version_conflict with the current task; nothing changes', async () => {
      const task = await create({ title: 'v0' });
      const first = await api.patch(
        `/api/tasks/${task.id}`,
        { version: 0, title: 'v1 by alice' },
        alice.token,
      );
      expect(first.status).toBe(200);
      expect(first.body.task.version).toBe(1);

      const stale = await api.patch(
        `/api/tasks/${task.id}`,
        { version: 0, title: 'v1 by bob', priority: 'low' },
        bob.token,
      );
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('version_conflict');
      expect(stale.body.error.details.task).toEqual(first.body.task);

      const now = await api.get(`/api/tasks/${task.id}`, alice.token);
      expect(now.body.task).toEqual(first.body.task);

      // Reapplying on the current version works.
      const retry = await api.patch(
        `/api/tasks/${task.id}`,
        { version: 1, title: 'v2 by bob' },
        bob.token,
      );
      expect(retry.status).toBe(200);
      expect(retry.body.task).toMatchObject({ title: 'v2 by bob', version: 2 });

      // A version from the future is a conflict too.
      const future = await api.patch(
        `/api/tasks/${task.id}`,
        { version: 99, title: 'nope' },
        bob.token,
      );
      expect(future.status).toBe(409);
      expect(future.body.error.details.task.version).toBe(2);
    });

    it('concurrent PATCHes with the same version: exactly one wins, the rest are 409', async () => {
      const task = await create({ title: 'contended' });
      const rs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api.patch(
            `/api/tasks/${task.id}`,
            { version: 0, title: `w${i}` },
            i % 2 ? bob.token : alice.token,
          ),
        ),
      );
      const winners = rs.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(rs.filter((r) => r.status === 409)).toHaveLength(7);
      for (const r of rs) if (r.status === 409) expect(r.body.error.code).toBe('version_conflict');
      const now = (await api.get(`/api/tasks/${task.id}`, alice.token)).body.task;
      expect(now).toEqual(winners[0]!.body.task);
      expect(now.version).toBe(1);
    });

    it('concurrent PATCHes without a version: every success gets its own version, none is lost', async () => {
      const task = await create({ title: 'busy' });
      const rs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api.patch(`/api/tasks/${task.id}`, { labels: [`l${i}`] }, alice.token),
        ),
      );
      const ok = rs.filter((r) => r.status === 200);
      for (const r of rs) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
      expect(ok.length).toBeGreaterThan(0);
      const versions = ok.map((r) => r.body.task.version as number).sort((a, b) => a - b);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      const now = (await api.get(`/api/tasks/${task.id}`, alice.token)).body.task;
      expect(now.version).toBe(ok.length);
      // The stored task is the one the highest version's writer was told about.
      expect(now).toEqual(ok.find((r) => r.body.task.version === ok.length)!.body.task);
    });

    it('a move with a stale version is 409 version_conflict; nothing moves', async () => {
      const task = await create({ title: 'to move' });
      await api.patch(`/api/tasks/${task.id}`, { title: 'bumped' }, alice.token);
      const r = await move(task.id, { status: 'done', version: 0 });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('version_conflict');
      expect(r.body.error.details.task).toMatchObject({ id: task.id, status: 'todo', version: 1 });
      const now = (await api.get(`/api/tasks/${task.id}`, alice.token)).body.task;
      expect(now).toMatchObject({ status: 'todo', position: task.position, version: 1 });
      const ok = await move(task.id, { status: 'done', version: 1 });
      expect(ok.status).toBe(200);
      expect(ok.body.task).toMatchObject({ status: 'done', version: 2 });
    });
  });

  describe('moves', () => {
    let pid: string;
    let ids: string[];
    const titlesOf = async (status: TaskStatus) => (await column(status, pid)).map((x) => x.title);

    beforeAll(async () => {
      const p = await api.post('/api/projects', { name: 'Moves' }, alice.token);
      pid = p.body.project.id;
      ids = [];
      for (const title of ['A', 'B', 'C', 'D'])
        ids.push((await create({ title }, alice.token, pid)).id);
    });

    it('moves by afterId, beforeId, both, index and to the end', async () => {
      const [A, B, C, D] = ids as [string, string, string, string];
      // A after C: B C A D
      let r = await move(A, { status: 'todo', afterId: C });
      expect(r.status).toBe(200);
      expect(await titlesOf('todo')).toEqual(['B', 'C', 'A', 'D']);
      // D before B: D B C A
      r = await move(D, { status: 'todo', beforeId: B });
      expect(r.status).toBe(200);
      expect(await titlesOf('todo')).toEqual(['D', 'B', 'C', 'A']);
      // C between D and B: D C B A
      r = await move(C, { status: 'todo', afterId: D, beforeId: B });
      expect(r.status).toBe(200);
      expect(await titlesOf('todo')).toEqual(['D', 'C', 'B', 'A']);
      // B to another column (empty): in-progress = [B]
      r = await move(B, { status: 'in-progress' });
      expect(r.status).toBe(200);
      expect(r.body.task).toMatchObject({ status: 'in-progress', version: 1 });
      expect(await titlesOf('todo')).toEqual(['D', 'C', 'A']);
      expect(await titlesOf('in-progress')).toEqual(['B']);
      // A to index 0 of in-progress: A B
      r = await move(A, { status: 'in-progress', index: 0 });
      expect(await titlesOf('in-progress')).toEqual(['A', 'B']);
      // D to index 1 of in-progress: A D B
      r = await move(D, { status: 'in-progress', index: 1 });
      expect(await titlesOf('in-progress')).toEqual(['A', 'D', 'B']);
      // An index past the end clamps to the end: A D B C
      r = await move(C, { status: 'in-progress', index: 999 });
      expect(r.status).toBe(200);
      expect(await titlesOf('in-progress')).toEqual(['A', 'D', 'B', 'C']);
      expect(await titlesOf('todo')).toEqual([]);
      // Within the column to its own end: A B C D
      r = await move(D, { status: 'in-progress' });
      expect(await titlesOf('in-progress')).toEqual(['A', 'B', 'C', 'D']);
      // Null neighbours mean "no neighbour on that side": to the start with beforeId.
      r = await move(D, { status: 'in-progress', afterId: null, beforeId: A });
      expect(r.status).toBe(200);
      expect(await titlesOf('in-progress')).toEqual(['D', 'A', 'B', 'C']);
    });

    it('rejects impossible moves with 400 and moves nothing', async () => {
      const before = await listTasks(pid);
      const byTitle = Object.fromEntries(before.map((x) => [x.title, x.id]));
      const [A, B, C, D] = ['A', 'B', 'C', 'D'].map((k) => byTitle[k]!) as [
        string,
        string,
        string,
        string,
      ];
      const other = await create({ title: 'elsewhere', status: 'done' }, alice.token, pid);
      const after = await listTasks(pid);
      const bodies: [string, Record<string, unknown>][] = [
        ['neighbour from another column', { status: 'in-progress', afterId: other.id }],
        ['unknown neighbour', { status: 'in-progress', beforeId: 'f'.repeat(24) }],
        ['itself as neighbour', { status: 'in-progress', afterId: D }],
        ['after and before reversed', { status: 'in-progress', afterId: C, beforeId: A }],
        ['after equals before', { status: 'in-progress', afterId: B, beforeId: B }],
        // D A B C: A and C are not neighbours (B sits between them).
        ['neighbours not adjacent', { status: 'in-progress', afterId: A, beforeId: C }],
        ['bad status', { status: 'blocked' }],
        ['missing status', { index: 0 }],
        ['negative index', { status: 'todo', index: -1 }],
        ['fractional index', { status: 'todo', index: 1.5 }],
        ['operator neighbour', { status: 'todo', afterId: { $gt: '' } }],
        ['unknown key', { status: 'todo', position: 'a0' }],
      ];
      for (const [what, body] of bodies) {
        const r = await move(D, body);
        expect(r.status, what).toBe(400);
        expect(r.body.error.code, what).toBe('validation_failed');
      }
      expect(await listTasks(pid)).toEqual(after);
      expect(before.length + 1).toBe(after.length);
    });

    it('concurrent moves and creates into the same spot all succeed with distinct positions', async () => {
      const p = await api.post('/api/projects', { name: 'Races' }, alice.token);
      const rp = p.body.project.id as string;
      const anchor = await create({ title: 'anchor', status: 'review' }, alice.token, rp);
      const movers: Task[] = [];
      for (let i = 0; i < 6; i++) movers.push(await create({ title: `m${i}` }, alice.token, rp));
      // Every request computes the same position from the same neighbours; the losers of the
      // unique (project, status, position) index must retry, not fail.
      const moves = await Promise.all(
        movers.map((m) => move(m.id, { status: 'review', afterId: anchor.id })),
      );
      expect(moves.map((r) => r.status)).toEqual(movers.map(() => 200));
      const toEnd = await Promise.all(movers.map((m) => move(m.id, { status: 'done' })));
      expect(toEnd.map((r) => r.status)).toEqual(movers.map(() => 200));
      const creates = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api.post(`/api/projects/${rp}/tasks`, { title: `c${i}`, status: 'done' }, alice.token),
        ),
      );
      expect(creates.map((r) => r.status)).toEqual(creates.map(() => 201));
      const tasks = await listTasks(rp);
      expect(tasks).toHaveLength(19);
      for (const status of TASK_STATUSES) {
        const col = tasks.filter((x) => x.status === status);
        for (let i = 1; i < col.length; i++)
          expect(col[i - 1]!.position < col[i]!.position).toBe(true);
      }
      expect(tasks.filter((x) => x.status === 'done')).toHaveLength(18);
    });

    it('200 random moves keep a strict total order, each task exactly where asked', async () => {
      const seed = Number(process.env.MOVE_SEED ?? Date.now() % 1_000_000);
      const rand = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const p = await api.post('/api/projects', { name: `Random ${seed}` }, alice.token);
      const rp = p.body.project.id as string;

      // The model: ids per column in board order, and every task's position.
      const cols = new Map<TaskStatus, string[]>(TASK_STATUSES.map((s) => [s, []]));
      const pos = new Map<string, string>();
      for (let i = 0; i < 14; i++) {
        const status = TASK_STATUSES[i % TASK_STATUSES.length]!;
        const task = await create({ title: `t${i}`, status }, alice.token, rp);
        cols.get(status)!.push(task.id);
        pos.set(task.id, task.position);
      }
      const all = [...pos.keys()];

      const check = async (label: string) => {
        const tasks = await listTasks(rp);
        expect(tasks.length, label).toBe(all.length);
        expect(new Set(tasks.map((x) => x.id)).size, label).toBe(all.length);
        for (const status of TASK_STATUSES) {
          const col = tasks.filter((x) => x.status === status);
          for (let i = 1; i < col.length; i++) {
            expect(col[i - 1]!.position < col[i]!.position, `${label} ${status} ${i}`).toBe(true);
          }
          expect(
            col.map((x) => x.id),
            `${label}: column ${status}`,
          ).toEqual(cols.get(status));
          for (const x of col) expect(x.position, label).toBe(pos.get(x.id));
        }
        // The whole board is in column order.
        const ranks = tasks.map((x) => TASK_STATUSES.indexOf(x.status));
        expect(ranks, label).toEqual([...ranks].sort((a, b) => a - b));
      };

      await check(`seed ${seed} start`);
      for (let n = 1; n <= 200; n++) {
        const id = pick(all);
        const to = pick(TASK_STATUSES);
        const from = [...cols.entries()].find(([, ids]) => ids.includes(id))![0];
        const target = cols.get(to)!.filter((x) => x !== id);
        const mode = pick(['index', 'after', 'before', 'both', 'end'] as const);
        let body: Record<string, unknown> = { status: to };
        let at: number;
        if (mode === 'index' || target.length === 0) {
          const index = Math.floor(rand() * (target.length + 2)); // sometimes past the end
          body = { status: to, index };
          at = Math.min(index, target.length);
        } else if (mode === 'after') {
          const i = Math.floor(rand() * target.length);
          body = { status: to, afterId: target[i] };
          at = i + 1;
        } else if (mode === 'before') {
          const i = Math.floor(rand() * target.length);
          body = { status: to, beforeId: target[i] };
          at = i;
        } else if (mode === 'both') {
          // Adjacent neighbours; at the ends one side is null.
          const gap = Math.floor(rand() * (target.length + 1));
          body = { status: to, afterId: target[gap - 1] ?? null, beforeId: target[gap] ?? null };
          at = gap;
        } else {
          at = target.length;
        }
        const label = `seed ${seed} move ${n} (${mode} ${JSON.stringify(body)})`;
        const r = await move(id, body);
        expect(r.status, label).toBe(200);
        const moved = r.body.task as Task;
        expect(moved.status, label).toBe(to);
        const prev = target[at - 1];
        const next = target[at];
        if (prev) expect(pos.get(prev)! < moved.position, `${label}: after prev`).toBe(true);
        if (next) expect(moved.position < pos.get(next)!, `${label}: before next`).toBe(true);
        // Update the model.
        cols.set(
          from,
          cols.get(from)!.filter((x) => x !== id),
        );
        target.splice(at, 0, id);
        cols.set(to, target);
        pos.set(id, moved.position);
        if (n % 20 === 0) await check(label);
      }
      await check(`seed ${seed} end`);
    });
  });

  describe('domain events', () => {
    it('every successful change publishes one envelope with the next consecutive seq', async () => {
      const p = await api.post('/api/projects', { name: 'Events' }, alice.token);
      const pid = p.body.project.id as string;
      expect(p.body.project.seq).toBe(0);
      await api.post(
        `/api/projects/${pid}/members`,
        { email: bob.user.email, role: 'member' },
        alice.token,
      );
      const events: AnyDomainEvent[] = [];
      const off = t.server.ctx.bus.subscribe((e) => {
        if (e.projectId === pid) events.push(e);
      });
      const seqOf = async () =>
        (await api.get(`/api/projects/${pid}`, alice.token)).body.project.seq as number;
      try {
        const start = await seqOf();
        expect(start).toBe(1); // member:added

        const task = await create({ title: 'evented' }, alice.token, pid);
        const other = await create({ title: 'other' }, bob.token, pid);
        const upd = await api.patch(`/api/tasks/${task.id}`, { title: 'changed' }, bob.token);
        expect(upd.status).toBe(200);
        const mv = await move(task.id, { status: 'review' });
        expect(mv.status).toBe(200);
        const mv2 = await move(other.id, { status: 'review', beforeId: task.id }, bob.token);
        expect(mv2.status).toBe(200);

        // Failed changes publish nothing and do not advance seq.
        const beforeFailures = await seqOf();
        expect(
          (await api.patch(`/api/tasks/${task.id}`, { version: 0, title: 'stale' }, bob.token))
            .status,
        ).toBe(409);
        expect(
          (await api.post(`/api/projects/${pid}/tasks`, { title: '' }, alice.token)).status,
        ).toBe(400);
        expect((await move(task.id, { status: 'done', afterId: 'f'.repeat(24) })).status).toBe(400);
        expect(await seqOf()).toBe(beforeFailures);

        const del = await api.del(`/api/tasks/${task.id}`, alice.token);
        expect(del.status).toBe(204);
        const channels = await api.get(`/api/projects/${pid}/channels`, alice.token);
        const channelId = channels.body.channels[0].id as string;
        const msg = await api.post(
          `/api/channels/${channelId}/messages`,
          { content: 'hello' },
          bob.token,
        );
        expect(msg.status).toBe(201);
        await api.patch(`/api/messages/${msg.body.message.id}`, { content: 'hello!' }, bob.token);
        await api.del(`/api/messages/${msg.body.message.id}`, bob.token);
        const ch = await api.post(`/api/projects/${pid}/channels`, { name: 'random' }, bob.token);
        expect(ch.status).toBe(201);
        const renamed = await api.patch(`/api/projects/${pid}`, { name: 'Events 2' }, alice.token);
        expect(renamed.status).toBe(200);

        expect(events.map((e) => e.type)).toEqual([
          'task:created',
          'task:created',
          'task:updated',
          'task:moved',
          'task:moved',
          'task:deleted',
          'chat:newMessage',
          'chat:messageUpdated',
          'chat:messageDeleted',
          'channel:created',
          'project:updated',
        ]);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => start + 1 + i));
        expect(events.map((e) => e.actor)).toEqual([
          alice.user.id,
          bob.user.id,
          bob.user.id,
          alice.user.id,
          bob.user.id,
          alice.user.id,
          bob.user.id,
          bob.user.id,
          bob.user.id,
          bob.user.id,
          alice.user.id,
        ]);
        for (const e of events) {
          expect(Object.keys(e).sort()).toEqual([
            'actor',
            'at',
            'data',
            'projectId',
            'seq',
            'type',
          ]);
          expect(e.projectId).toBe(pid);
          expect(new Date(e.at).toISOString()).toBe(e.at);
        }
        const [created, , updated, moved, moved2, deleted, newMessage] = events;
        expect(created!.data).toEqual({ task, createdBy: alice.user.id });
        expect(updated!.data).toMatchObject({
          taskId: task.id,
          updates: { title: 'changed' },
          task: upd.body.task,
          updatedBy: bob.user.id,
        });
        expect(moved!.data).toEqual({
          taskId: task.id,
          fromStatus: 'todo',
          toStatus: 'review',
          newIndex: 0,
          task: mv.body.task,
          movedBy: alice.user.id,
        });
        expect(moved2!.data).toMatchObject({ taskId: other.id, newIndex: 0, toStatus: 'review' });
        expect(deleted!.data).toEqual({ taskId: task.id, deletedBy: alice.user.id });
        expect(newMessage!.data).toEqual(msg.body.message);
        expect(renamed.body.project.seq).toBe(events[events.length - 1]!.seq);
        expect(await seqOf()).toBe(events[events.length - 1]!.seq);
      } finally {
        off();
      }
    });

    it('ids in paths are case-insensitive; events carry the canonical ids and one seq counter', async () => {
      const p = await api.post('/api/projects', { name: 'Case' }, alice.token);
      const pid = p.body.project.id as string;
      const PID = pid.toUpperCase();
      const events: AnyDomainEvent[] = [];
      const off = t.server.ctx.bus.subscribe((e) => {
        if (e.projectId.toLowerCase() === pid) events.push(e);
      });
      try {
        const add = await api.post(
          `/api/projects/${PID}/members`,
          { email: bob.user.email, role: 'member' },
          alice.token,
        );
        expect(add.status).toBe(201);
        const task = await create({ title: 'upper' }, alice.token, PID);
        expect(task.projectId).toBe(pid);
        const TID = task.id.toUpperCase();
        expect((await api.patch(`/api/tasks/${TID}`, { title: 'x' }, alice.token)).status).toBe(
          200,
        );
        expect((await move(TID, { status: 'done' })).status).toBe(200);
        expect(
          (await api.patch(`/api/projects/${PID}`, { name: 'CASE' }, alice.token)).status,
        ).toBe(200);
        const channels = await api.get(`/api/projects/${PID}/channels`, alice.token);
        const CID = (channels.body.channels[0].id as string).toUpperCase();
        const msg = await api.post(`/api/channels/${CID}/messages`, { content: 'hi' }, bob.token);
        expect(msg.status).toBe(201);
        expect(
          (
            await api.del(
              `/api/messages/${(msg.body.message.id as string).toUpperCase()}`,
              bob.token,
            )
          ).status,
        ).toBe(204);
        expect((await api.del(`/api/tasks/${TID}`, alice.token)).status).toBe(204);
        // Bob leaves, naming himself in upper case: that is leaving, not removing someone else.
        const leave = await api.del(
          `/api/projects/${PID}/members/${bob.user.id.toUpperCase()}`,
          bob.token,
        );
        expect(leave.status).toBe(204);

        expect(events.map((e) => e.projectId)).toEqual(events.map(() => pid));
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
        expect(byType['task:deleted']).toEqual({ taskId: task.id, deletedBy: alice.user.id });
        expect(byType['chat:messageDeleted']).toMatchObject({ messageId: msg.body.message.id });
        expect(byType['member:removed']).toEqual({ userId: bob.user.id });
        for (const path of [`/api/projects/${pid}`, `/api/projects/${PID}`]) {
          const got = await api.get(path, alice.token);
          expect(got.body.project.seq, path).toBe(events.length);
        }
      } finally {
        off();
      }
    });
  });
});
