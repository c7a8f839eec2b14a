import type { ErrorInfo } from '@collabflow/shared';
import { ZodError, type z } from 'zod';

/** An operational error: something the caller did or asked for, with an HTTP status and code. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const errors = {
  validation: (message: string, details?: unknown) =>
    new AppError(400, 'validation_failed', message, details),
  unauthorized: (message = 'authentication required') => new AppError(401, 'unauthorized', message),
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'email or password is wrong'),
  forbidden: (message = 'you do not have permission to do this') =>
    new AppError(403, 'forbidden', message),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} not found`),
  conflict: (code: string, message: string, details?: unknown) =>
    new AppError(409, code, message, details),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(
      429,
      'rate_limited',
      `too many requests; retry in ${retryAfterSeconds} s`,
      undefined,
      {
        'Retry-After': String(retryAfterSeconds),
      },
    ),
  unavailable: (message: string) => new AppError(503, 'unavailable', message),
};

export function zodDetails(err: ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Parses input with a schema, turning a failure into a 400 `validation_failed`. */
export function parse<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'request',
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const details = zodDetails(result.error);
    const first = details[0];
    const where = first?.path ? `${first.path}: ` : '';
    throw errors.validation(`invalid ${what}: ${where}${first?.message ?? 'bad value'}`, details);
  }
  return result.data;
}

/**
 * A unique-index violation. MongoDB (and FerretDB on inserts) report code 11000; FerretDB 1.x
 * reports a violation caused by an update or findAndModify as an InternalError (code 1) whose
 * message carries the backend's own error: `UNIQUE constraint failed` on its SQLite handler,
 * `duplicate key value violates unique constraint … (SQLSTATE 23505)` on its PostgreSQL handler.
 */
export function isDuplicateKeyError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === 11000) return true;
  return (
    typeof message === 'string' &&
    /UNIQUE constraint failed|duplicate key value violates unique constraint|SQLSTATE 23505/.test(
      message,
    )
  );
}

interface MongoLikeError {
  name?: string;
  code?: number;
  kind?: string;
  path?: string;
}

/** Maps any thrown value to a status and an error body safe to show the client. */
export function toErrorResponse(
  err: unknown,
  exposeUnknown: boolean,
): { status: number; body: ErrorInfo; headers?: Record<string, string>; unexpected: boolean } {
  if (err instanceof AppError) {
    const body: ErrorInfo = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return { status: err.status, body, headers: err.headers, unexpected: false };
  }
  if (err instanceof ZodError) {
    return {
      status: 400,
      body: { code: 'validation_failed', message: 'invalid request', details: zodDetails(err) },
      unexpected: false,
    };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as MongoLikeError & {
    type?: string;
    status?: number;
    message?: string;
  };
  // body-parser
  if (e.type === 'entity.too.large') {
    return {
      status: 413,
      body: { code: 'payload_too_large', message: 'request body is too large' },
      unexpected: false,
    };
  }
  if (e.type === 'entity.parse.failed') {
    return {
      status: 400,
      body: { code: 'invalid_json', message: 'request body is not valid JSON' },
      unexpected: false,
    };
  }
  // Express's router: a path parameter that is not valid percent-encoding (`/api/tasks/%zz`).
  if (err instanceof URIError && e.status === 400) {
    return {
      status: 400,
      body: {
        code: 'validation_failed',
        message: 'a path parameter is not valid percent-encoding',
      },
      unexpected: false,
    };
  }
  // body-parser: a body its Content-Encoding (gzip, deflate, br) cannot decompress. The zlib
  // error comes marked 400 and exposed by http-errors, without body-parser's `type`.
  if (e.status === 400 && (err as { expose?: unknown }).expose === true && !e.type) {
    return {
      status: 400,
      body: {
        code: 'bad_request',
        message: 'the request body cannot be decoded with its Content-Encoding',
      },
      unexpected: false,
    };
  }
  if (typeof e.type === 'string' && e.status && e.status >= 400 && e.status < 500) {
    return {
      status: e.status,
      body: { code: 'bad_request', message: e.message ?? 'bad request' },
      unexpected: false,
    };
  }
  if (e.name === 'CastError') {
    return {
      status: 400,
      body: { code: 'validation_failed', message: `invalid ${e.path ?? 'value'}` },
      unexpected: false,
    };
  }
  if (isDuplicateKeyError(err)) {
    return {
      status: 409,
      body: { code: 'conflict', message: 'that already exists' },
      unexpected: false,
    };
  }
  if (
    e.name === 'MongoServerSelectionError' ||
    e.name === 'MongoNetworkError' ||
    e.name === 'MongoNotConnectedError'
  ) {
    return {
      status: 503,
      body: { code: 'unavailable', message: 'the database is unavailable; try again shortly' },
      unexpected: true,
    };
  }
  const message = exposeUnknown && err instanceof Error ? err.message : 'internal server error';
  return { status: 500, body: { code: 'internal', message }, unexpected: true };
}
