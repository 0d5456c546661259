// The server under test, alone in its own process so that its memory is measured by itself: reads
// its configuration from the environment like `rpmgate serve`, prints one JSON line with its URL once
// it listens, and closes cleanly on SIGTERM.
import { readConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/runtime.ts';

const server = await startServer(readConfig(), { log: createLogger() });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  server.close().catch((error: unknown) => {
    process.stderr.write(`close failed: ${String(error)}\n`);
    process.exitCode = 1;
  });
});
