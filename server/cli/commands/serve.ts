// `rpmgate serve`: run the server until SIGINT/SIGTERM, then close connections and the database cleanly.
import { readConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { startServer } from '../../runtime.ts';

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const log = createLogger();
  const server = await startServer(config, { log });
  await new Promise<void>((resolve) => {
    let stopping = false;
    // Ctrl-C under `npm start` delivers SIGINT more than once (the terminal's process group, then
    // tsx relaying it): the handlers stay installed so that a repeat cannot cut the shutdown short.
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      resolve();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  await server.close();
  log.info('stopped');
}
