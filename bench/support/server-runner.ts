// Starts bench/support/server-process.ts as a child process and watches it: its URL, its memory
// (/proc/<pid>/status; the peak is reset through clear_refs so that each phase gets its own), and the
// "repodata built" lines it logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BuildLogLine {
  repo: string;
  packages: number;
  ms: number;
  /** Chunks in the plan and chunks compressed for this build (absent before the chunked builds). */
  chunks?: number;
  chunksBuilt?: number;
  /** Time to the plan: member list read or brought up to date, chunks named. */
  planMs?: number;
  members?: 'changes' | 'read';
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Current resident set size, in bytes. */
  rss(): number;
  /** Peak resident set size since start or since the last resetPeak(), in bytes. */
  peakRss(): number;
  /** Starts a new peak (writes 5 to /proc/<pid>/clear_refs); false when the kernel refuses. */
  resetPeak(): boolean;
  /** "repodata built" records logged so far. */
  builds: BuildLogLine[];
  stop(): Promise<void>;
}

const entry = fileURLToPath(new URL('./server-process.ts', import.meta.url));

/** `script`: another entry than server-process.ts (one that takes the same environment). */
export async function startServerProcess(env: Record<string, string>, script: string = entry): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server under test.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const builds: BuildLogLine[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      const record = JSON.parse(line) as { message?: string; level?: string } & Partial<BuildLogLine>;
      if (record.message === 'repodata built') {
        const { repo, packages, ms, chunks, chunksBuilt, planMs, members } = record;
        builds.push({ repo: repo!, packages: packages!, ms: ms!, chunks, chunksBuilt, planMs, members });
      }
      else if (record.level === 'error' || record.level === 'warn') errors.push(line);
    } catch {
      errors.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line) as { url: string; pid: number }));
    void exited.then((code) => reject(new Error(`the server exited at start (code ${code}): ${errors.slice(-5).join('\n')}`)));
  });
  const status = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${ready.pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return {
    url: ready.url,
    pid: ready.pid,
    builds,
    rss: () => status('VmRSS'),
    peakRss: () => status('VmHWM'),
    resetPeak: () => {
      try {
        writeFileSync(`/proc/${ready.pid}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
