import { z } from 'zod';
import * as s from '@collabflow/shared';

interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  auth?: boolean;
  ok: number;
}

/**
 * Every REST route the app answers (docs/api.md is the contract; backend/test/api-doc.test.ts
 * checks the three against each other). Request bodies and queries are the same zod schemas the
 * routes use.
 */
const ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    summary: 'Create an account',
    body: s.registerBody,
    auth: false,
    ok: 201,
  },
  {
    method: 'post',
    path: '/api/auth/login',
    summary:
      'Log in (failed attempts limited per client address; an address that keeps failing for an e-mail waits)',
    body: s.loginBody,
    auth: false,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    summary: 'Rotate the refresh cookie, get a new access token',
    auth: false,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    summary:
      'End the login session of the refresh cookie and/or bearer token on every replica (tokens, sockets, SSE)',
    auth: false,
    ok: 204,
  },
  { method: 'get', path: '/api/auth/me', summary: 'The current user', ok: 200 },
  {
    method: 'post',
    path: '/api/auth/password',
    summary:
      'Change the password (current one checked like a login): every session of the user ends on every replica, a fresh one is returned',
    body: s.changePasswordBody,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/auth/me',
    summary:
      'Delete the account (password checked like a login; 409 last_owner while the only owner of a project): leaves every project, ends every session',
    body: s.deleteAccountBody,
    ok: 204,
  },
  { method: 'get', path: '/api/workspaces', summary: 'My workspaces', ok: 200 },
  {
    method: 'post',
    path: '/api/workspaces',
    summary: 'Create a workspace',
    body: s.createWorkspaceBody,
    ok: 201,
  },
  { method: 'get', path: '/api/projects', summary: 'Projects I am a member of', ok: 200 },
  {
    method: 'post',
    path: '/api/projects',
    summary: 'Create a project (with a general channel)',
    body: s.createProjectBody,
    ok: 201,
  },
  { method: 'get', path: '/api/projects/{projectId}', summary: 'A project', ok: 200 },
  {
    method: 'patch',
    path: '/api/projects/{projectId}',
    summary: 'Rename or describe a project (admin)',
    body: s.updateProjectBody,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{projectId}',
    summary: 'Delete a project (owner)',
    ok: 204,
  },
  {
    method: 'get',
    path: '/api/projects/{projectId}/members',
    summary: 'Members and roles',
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/projects/{projectId}/members',
    summary: 'Add a member by email (admin)',
    body: s.addMemberBody,
    ok: 201,
  },
  {
    method: 'patch',
    path: '/api/projects/{projectId}/members/{userId}',
    summary: 'Change a role (admin)',
    body: s.updateMemberBody,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{projectId}/members/{userId}',
    summary: 'Remove a member (admin) or leave',
    ok: 204,
  },
  {
    method: 'get',
    path: '/api/projects/{projectId}/tasks',
    summary: 'Tasks by status, then position',
    query: s.listTasksQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/projects/{projectId}/tasks',
    summary: 'Create a task at the end of its column',
    body: s.createTaskBody,
    ok: 201,
  },
  { method: 'get', path: '/api/tasks/{taskId}', summary: 'A task', ok: 200 },
  {
    method: 'patch',
    path: '/api/tasks/{taskId}',
    summary: 'Update a task; a stale version answers 409',
    body: s.updateTaskBody,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/tasks/{taskId}/move',
    summary: 'Move a task between neighbours or to an index',
    body: s.moveTaskBody,
    ok: 200,
  },
  { method: 'delete', path: '/api/tasks/{taskId}', summary: 'Delete a task', ok: 204 },
  { method: 'get', path: '/api/projects/{projectId}/channels', summary: 'Chat channels', ok: 200 },
  {
    method: 'post',
    path: '/api/projects/{projectId}/channels',
    summary: 'Create a channel',
    body: s.createChannelBody,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/channels/{channelId}/messages',
    summary: 'Messages, newest first, cursor-paginated',
    query: s.listMessagesQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/channels/{channelId}/messages',
    summary: 'Post a message',
    body: s.postMessageBody,
    ok: 201,
  },
  {
    method: 'patch',
    path: '/api/messages/{messageId}',
    summary: 'Edit my message',
    body: s.editMessageBody,
    ok: 200,
  },
  { method: 'delete', path: '/api/messages/{messageId}', summary: 'Delete my message', ok: 204 },
  {
    method: 'get',
    path: '/api/projects/{projectId}/events',
    summary: 'Server-sent events; Last-Event-ID resumes',
    ok: 200,
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    auth: false,
    ok: 200,
  },
  { method: 'get', path: '/healthz', summary: 'Liveness', auth: false, ok: 200 },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: { status, mongo, redis }',
    auth: false,
    ok: 200,
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', auth: false, ok: 200 },
];

const toJson = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

const errorResponse = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            required: ['code', 'message'],
          },
        },
      },
    },
  },
};

export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^[a-f0-9]{24}$' },
    }));
    const query = r.query
      ? Object.entries(toJson(r.query).properties ?? {}).map(([name, schema]) => ({
          name,
          in: 'query',
          schema,
        }))
      : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      parameters: [...params, ...query],
      responses: { [r.ok]: { description: 'Success' }, default: errorResponse },
    };
    if (r.auth !== false) op.security = [{ bearer: [] }];
    if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: toJson(r.body) } },
      };
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'CollabFlow API', version },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}
