// `rpmgate serve` as shipped, with RPMGATE_WORKERS HTTP workers (one per core by default), for
// benchmarks that measure throughput the way an operator runs the server; its processes (the
// supervisor and each worker) are found through /proc so that their CPU and memory can be read.
import { readFileSync } from 'node:fs';
import { descendantsOf, exited, freePort, startServeProcess } from '../../test/support/serve-process.ts';

export interface ServeWorkers {
  url: string;
  /** The supervisor's pid. */
  pid: number;
  /** The supervisor and its workers (not an embedded PostgreSQL: the benchmarks give it DATABASE_URL). */
  pids(): number[];
  /** Resident set now, and its peak (VmHWM), of each process. */
  rss(): number[];
  peakRss(): number[];
  stop(): Promise<void>;
}

export async function startServeWorkers(options: { dataDir: string; workers: number; env: Record<string, string> }): Promise<ServeWorkers> {
  const serve = await startServeProcess({
    dataDir: options.dataDir,
    port: await freePort(),
    env: { RPMGATE_WORKERS: String(options.workers), HOST: '127.0.0.1', ...options.env },
  });
  const pid = serve.child.pid!;
  // /healthz answers once one worker listens: wait for every one of them.
  const deadline = Date.now() + 120_000;
  while ((serve.log().match(/"message":"rpmgate listening"/g)?.length ?? 0) < options.workers) {
    if (Date.now() > deadline || serve.child.exitCode !== null) throw new Error(`rpmgate serve did not start ${options.workers} workers: ${serve.log().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pids = () => [pid, ...descendantsOf(pid).filter((child) => readCommand(child).includes('node'))];
  const status = (field: string) => pids().map((each) => readStatus(each, field));
  return {
    url: serve.url,
    pid,
    pids,
    rss: () => status('VmRSS'),
    peakRss: () => status('VmHWM'),
    stop: async () => {
      if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
      await exited(serve.child);
    },
  };
}

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function readStatus(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
