/**
 * A terminal client for watching cross-replica sync by hand:
 *
 *   npm run client -- --url http://localhost:4001 --email alice@demo.collabflow.test
 *   npm run client -- --url http://localhost:4002 --email bob@demo.collabflow.test
 *
 * It logs in over REST, joins the first project (or --project <id>) and its #general channel,
 * and prints every event it receives. Type a line to send a chat message; `/task <title>`
 * creates a task; `/move <n> <status>` moves the n-th task of the board; `/quit` leaves.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:4000' },
    email: { type: 'string', default: 'alice@demo.collabflow.test' },
    password: { type: 'string', default: 'collabflow-demo' },
    project: { type: 'string' },
    transport: { type: 'string', default: 'websocket' },
  },
});
const base = values.url.replace(/\/$/, '');
const print = (line: string) =>
  process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.message ?? ''}`);
  return json;
}

async function main() {
  const { token, user } = await api<{ token: string; user: { id: string; name: string } }>(
    'POST',
    '/api/auth/login',
    undefined,
    {
      email: values.email,
      password: values.password,
    },
  );
  const { projects } = await api<{ projects: { id: string; name: string }[] }>(
    'GET',
    '/api/projects',
    token,
  );
  const project = values.project ? projects.find((p) => p.id === values.project) : projects[0];
  if (!project) throw new Error('no project to join; create one first');
  const { channels } = await api<{ channels: { id: string; name: string }[] }>(
    'GET',
    `/api/projects/${project.id}/channels`,
    token,
  );
  const general = channels.find((c) => c.name === 'general') ?? channels[0];

  const socket = io(base, {
    auth: { token },
    transports: values.transport === 'polling' ? ['polling'] : ['websocket'],
  });
  socket.on('connect', async () => {
    print(`connected to ${base} as ${user.name} (socket ${socket.id})`);
    const join = await socket.emitWithAck('join:project', project.id);
    if (!join.ok) return print(`join failed: ${join.error.message}`);
    print(
      `joined "${project.name}" at seq ${join.data.seq}; online: ${join.data.users.map((u: { name: string }) => u.name).join(', ')}`,
    );
    if (general) await socket.emitWithAck('chat:join', general.id);
  });
  socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
    print(`connect error: ${err.data?.code ?? ''} ${err.message}`),
  );
  socket.on('disconnect', (reason) => print(`disconnected: ${reason}`));
  socket.onAny((event: string, payload: Record<string, unknown>) => {
    const seq = typeof payload?.seq === 'number' ? `#${payload.seq} ` : '';
    const detail =
      event === 'chat:newMessage'
        ? `${(payload.sender as { name: string }).name}: ${String(payload.content)}`
        : event.startsWith('task:') && payload.task
          ? `"${(payload.task as { title: string }).title}" ${(payload.task as { status: string }).status}`
          : JSON.stringify(payload).slice(0, 160);
    print(`${seq}${event} ${detail}`);
  });

  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    const text = line.trim();
    if (!text) return;
    if (text === '/quit') {
      socket.close();
      rl.close();
      return;
    }
    let ack: { ok: boolean; error?: { message: string } };
    if (text.startsWith('/task ')) {
      ack = await socket.emitWithAck('task:create', {
        projectId: project.id,
        task: { title: text.slice(6) },
      });
    } else if (text.startsWith('/move ')) {
      const [, n, status] = text.split(/\s+/);
      const { tasks } = await api<{ tasks: { id: string }[] }>(
        'GET',
        `/api/projects/${project.id}/tasks`,
        token,
      );
      const task = tasks[Number(n) - 1];
      if (!task) return print(`no task number ${n}`);
      ack = await socket.emitWithAck('task:move', {
        projectId: project.id,
        taskId: task.id,
        toStatus: status,
        newIndex: 0,
      });
    } else {
      if (!general) return print('no channel to chat in');
      ack = await socket.emitWithAck('chat:message', { channelId: general.id, content: text });
    }
    if (!ack.ok) print(`refused: ${ack.error?.message}`);
  });
  rl.on('close', () => {
    socket.close();
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  console.error(`client: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
