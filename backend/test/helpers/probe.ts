/**
 * Probes shared by the access tests: access tokens made the way the server makes them (and
 * forged ones), the outcome of a Socket.IO handshake, and the outcome of opening an SSE stream.
 */
import jwt from 'jsonwebtoken';
import type { Socket } from 'socket.io-client';
import { TEST_JWT_SECRET } from './api.js';
import { socketFor } from './cluster.js';

export const JWT_SIGN = {
  algorithm: 'HS256',
  issuer: 'collabflow',
  audience: 'collabflow-api',
} as const;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An access token for `userId`, signed like the server signs them (or with another secret). */
export function signAccess(
  userId: string,
  opts: { secret?: string; expiresIn?: number; exp?: number } = {},
): string {
  const secret = opts.secret ?? TEST_JWT_SECRET;
  if (opts.exp !== undefined)
    return jwt.sign({ exp: opts.exp }, secret, { ...JWT_SIGN, subject: userId });
  return jwt.sign({}, secret, { ...JWT_SIGN, subject: userId, expiresIn: opts.expiresIn ?? 900 });
}

/** The claims of a JWT, read without checking anything. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The same header and signature around a payload with `patch` applied. */
export function tamper(token: string, patch: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64url({ ...claimsOf(token), ...patch })}.${s}`;
}

/** An unsigned token (`alg: none`), with or without the trailing dot, claims otherwise valid. */
export function unsigned(userId: string, alg = 'none', trailingSignature = ''): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: userId,
    iss: JWT_SIGN.issuer,
    aud: JWT_SIGN.audience,
    iat: now,
    exp: now + 900,
  };
  return `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}.${trailingSignature}`;
}

export type HandshakeOutcome =
  { connected: true; socket: Socket } | { connected: false; code: unknown; message: string };

/** Opens a real WebSocket with `auth: { token }` and reports how the handshake ended. */
export function handshake(url: string, token: string | undefined): Promise<HandshakeOutcome> {
  const socket = socketFor(url, token as string);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true, socket }));
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      socket.close();
      resolve({ connected: false, code: err.data?.code, message: err.message });
    });
  });
}

export interface SseOutcome {
  status: number;
  contentType: string | null;
  /** The JSON body of a refusal; for a stream, its first chunk of text. */
  body: unknown;
}

/** GET /api/projects/:id/events; a stream that opens is read up to its first chunk and closed. */
export async function sseOpen(
  baseUrl: string,
  projectId: string,
  token: string | undefined,
  opts: { headers?: Record<string, string>; query?: string } = {},
): Promise<SseOutcome> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const query = opts.query ? `?${opts.query}` : '';
  const res = await fetch(`${baseUrl}/api/projects/${projectId}/events${query}`, {
    headers,
    signal: abort.signal,
  });
  const contentType = res.headers.get('content-type');
  if (contentType?.startsWith('text/event-stream') && res.body) {
    const reader = res.body.getReader();
    const first = await reader.read();
    abort.abort();
    await reader.cancel().catch(() => undefined);
    return { status: res.status, contentType, body: new TextDecoder().decode(first.value) };
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, contentType, body };
}
