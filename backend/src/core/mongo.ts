import mongoose from 'mongoose';
import type { Logger } from './logger.js';

/** Hides credentials in a connection string for logs. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Connects mongoose, retrying for `giveUpAfterMs` (MongoDB may still be starting), and builds the
 * indexes every model declares. One log line per state change afterwards.
 */
export async function connectMongo(
  uri: string,
  logger: Logger,
  giveUpAfterMs = 30_000,
): Promise<void> {
  mongoose.set('strictQuery', true);
  const log = logger.child({ mongo: redactUri(uri) });
  const deadline = Date.now() + giveUpAfterMs;
  let warned = false;
  for (;;) {
    try {
      await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: false });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`cannot reach MongoDB at ${redactUri(uri)}: ${(err as Error).message}`);
      }
      if (!warned) log.warn({ err: (err as Error).message }, 'MongoDB not reachable yet; retrying');
      warned = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await Promise.all(Object.values(mongoose.models).map((m) => m.createIndexes()));
  const conn = mongoose.connection;
  conn.on('disconnected', () => {
    if (!closing) log.warn('MongoDB connection lost');
  });
  conn.on('reconnected', () => log.info('MongoDB connection back'));
  conn.on('error', (err: Error) => log.error({ err: err.message }, 'MongoDB error'));
  log.info('MongoDB connected');
}

let closing = false;

export async function disconnectMongo(): Promise<void> {
  closing = true;
  await mongoose.disconnect();
}
