import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './core/logger.js';
import { createCollabServer } from './server.js';
import { seedDemo } from './seed/demo.js';

/** The entry point alone reads the environment, connects, listens and handles signals. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`collabflow: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL, config.INSTANCE_ID ?? `pid-${process.pid}`);
  const server = await createCollabServer(config, logger);
  if (config.SEED_DEMO) await seedDemo(server.ctx);
  const port = await server.listen();
  logger.info(
    { port, host: config.HOST },
    `CollabFlow API listening on http://${config.HOST}:${port}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT);
    force.unref();
    server.close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection'),
  );
}

main().catch((err: unknown) => {
  console.error(`collabflow: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
