import type { TaskStatus } from '@collabflow/shared';
import type { ServiceContext } from '../core/context.js';
import { User } from '../auth/user.model.js';
import { register } from '../auth/auth.service.js';
import { addMember, createProject } from '../projects/project.service.js';
import { createTask } from '../tasks/task.service.js';
import { listChannels, postMessage } from '../chat/chat.service.js';
import { createWorkspace } from '../workspaces/workspace.service.js';

export const DEMO_PASSWORD = 'collabflow-demo';
export const DEMO_USERS = [
  { email: 'alice@demo.collabflow.test', name: 'Alice Martin' },
  { email: 'bob@demo.collabflow.test', name: 'Bob Okafor' },
  { email: 'carol@demo.collabflow.test', name: 'Carol Nguyen' },
] as const;

const TASKS: {
  title: string;
  status: TaskStatus;
  priority: 'low' | 'medium' | 'high' | 'urgent';
  labels: string[];
}[] = [
  {
    title: 'Write the launch announcement',
    status: 'todo',
    priority: 'high',
    labels: ['marketing'],
  },
  {
    title: 'Pick the pricing page screenshots',
    status: 'todo',
    priority: 'medium',
    labels: ['design'],
  },
  {
    title: 'Load-test the real-time server',
    status: 'in-progress',
    priority: 'urgent',
    labels: ['backend'],
  },
  {
    title: 'Keyboard shortcuts for the board',
    status: 'in-progress',
    priority: 'low',
    labels: ['frontend'],
  },
  {
    title: 'Review the onboarding emails',
    status: 'review',
    priority: 'medium',
    labels: ['marketing'],
  },
  { title: 'Set up the status page', status: 'done', priority: 'medium', labels: ['ops'] },
];

/** Seeds a demo workspace once (skipped when the demo users exist) and prints the credentials. */
export async function seedDemo(ctx: ServiceContext): Promise<void> {
  const first = DEMO_USERS[0];
  if (await User.exists({ email: first.email })) {
    printCredentials(false);
    return;
  }
  const sessions = [];
  for (const u of DEMO_USERS) {
    sessions.push(await register(ctx, { ...u, password: DEMO_PASSWORD }, 'seed'));
  }
  const [alice, bob, carol] = sessions.map((s) => s.user);
  if (!alice || !bob || !carol) throw new Error('demo users were not created');
  const ws = await createWorkspace(alice.id, { name: 'Acme Inc.' });
  const project = await createProject(ctx, alice.id, {
    name: 'Product launch',
    workspaceId: ws.id,
    description: 'Everything that has to happen before launch day.',
  });
  await addMember(ctx, alice.id, project.id, { email: bob.email, role: 'member' });
  await addMember(ctx, alice.id, project.id, { email: carol.email, role: 'viewer' });
  for (const [i, t] of TASKS.entries()) {
    await createTask(ctx, alice.id, project.id, {
      ...t,
      assignee: i % 2 === 0 ? alice.id : bob.id,
    });
  }
  const [general] = await listChannels(alice.id, project.id);
  if (general) {
    await postMessage(ctx, alice.id, general.id, {
      content: 'Welcome to the launch project! The board is live.',
    });
    await postMessage(ctx, bob.id, general.id, {
      content: 'I have started on the load test, results tomorrow.',
    });
  }
  ctx.logger.info({ projectId: project.id }, 'demo workspace seeded');
  printCredentials(true);
}

function printCredentials(created: boolean) {
  const lines = [
    created ? 'Demo workspace created. Log in as:' : 'Demo workspace present. Log in as:',
    ...DEMO_USERS.map(
      (u, i) => `  ${u.email} / ${DEMO_PASSWORD}  (${['owner', 'member', 'viewer'][i]})`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
