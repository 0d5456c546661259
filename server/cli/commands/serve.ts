// `rpmgate serve`: run the server until SIGINT/SIGTERM, then close connections and the database cleanly.
import { readConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { startServer } from '../../runtime.ts';

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const log = createLogger();
  const server = await startServer(config, { log });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await server.close();
  log.info('stopped');
}
