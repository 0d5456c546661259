// bench:cleanup's server under test: server-process.ts with the cleanup's clock read from a file
// (BENCH_CLOCK_FILE, an ISO date the benchmark moves forward between runs), so that warnings fall due
// without waiting two weeks.
import { readFileSync } from 'node:fs';
import { readConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/runtime.ts';

const clockFile = process.env.BENCH_CLOCK_FILE;
const clock = clockFile ? () => new Date(readFileSync(clockFile, 'utf8').trim()) : undefined;
const server = await startServer(readConfig(), { log: createLogger(), clock });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  server.close().catch((error: unknown) => {
    process.stderr.write(`close failed: ${String(error)}\n`);
    process.exitCode = 1;
  });
});
