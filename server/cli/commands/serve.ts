// `rpmgate serve`: run the server until SIGINT, SIGTERM or SIGHUP, then close connections and the
// database cleanly (the embedded PostgreSQL too). With RPMGATE_WORKERS > 1 this process supervises
// that many HTTP workers (server/ops/supervisor.ts), and a worker process runs server/ops/worker.ts.
import cluster from 'node:cluster';
import { readConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { runSupervisor } from '../../ops/supervisor.ts';
import { runWorker } from '../../ops/worker.ts';
import { startServer } from '../../runtime.ts';
import { announceStart, startFacts } from '../start-banner.ts';

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function serveCommand(): Promise<void> {
  const config = readConfig();
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  if (cluster.isWorker) return runWorker(config, log);
  // Heard from the very start: a signal that arrives while the server starts (a first initdb takes
  // seconds) stops it as soon as it is up, rather than killing it halfway with its PostgreSQL left
  // running. Ctrl-C under `npm start` delivers SIGINT twice (the terminal's process group, then npm
  // passing it on): the handlers stay installed so that a repeat cannot cut the shutdown short.
  const stopRequested = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      resolve();
    };
    for (const signal of stopSignals) process.on(signal, () => stop(signal));
  });
  if (config.workers > 1) {
    await runSupervisor(config, log, stopRequested, (server) => announceStart(startFacts(config, server), log));
  } else {
    const server = await startServer(config, { log });
    announceStart(startFacts(config, server), log);
    await stopRequested;
    await server.close();
  }
  log.info('stopped');
}
