// Keeps the embedded PostgreSQL running: when its postmaster dies (a crash, kill -9, the OOM killer) it
// is started again, after a delay that doubles while it keeps failing (a run that lasted resets it),
// and the log says so. Stopping stops the PostgreSQL that holds the data dir then, whoever started it
// last: the first postmaster, a restarted one, or one an administrator started meanwhile.
import type { Logger } from '../log.ts';

export interface Postmaster {
  pid: number;
  /** Settles with how it ended: "exited (signal SIGKILL)", "exited (code 1)", "is gone". */
  ended: Promise<string>;
  hasEnded: boolean;
  /** Shuts it down and waits until it has ended. */
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** The postmaster running now, ready. */
  first: Postmaster;
  /** Starts (or adopts) a postmaster at once; `ready` settles when it answers queries, or fails. */
  launch(): Promise<{ postmaster: Postmaster; ready: Promise<void> }>;
  /** The postmaster that holds the data dir now (its postmaster.pid), whoever started it. */
  running(): Postmaster | null;
  /** Called when a postmaster is ready for queries, and as soon as it is not (died, stopping). */
  up(): void;
  down(): void;
  log?: Logger;
}

export interface SupervisedCluster {
  stop(): Promise<void>;
}

const firstDelayMs = 250;
const maxDelayMs = 10_000;
/** A postmaster that ran this long before it died counts as stable: the next restart is quick again. */
const stableMs = 30_000;

export function superviseCluster(options: SuperviseOptions): SupervisedCluster {
  const { log } = options;
  let current: Postmaster | null = options.first;
  let startedAt = Date.now();
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let restarting: Promise<void> | null = null;
  let stopping: Promise<void> | null = null;

  const nextDelay = () => Math.min(firstDelayMs * 2 ** failures++, maxDelayMs);

  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      timer = null;
      restarting = restart().finally(() => (restarting = null));
    }, delay);
    // A pending restart alone must not keep a process alive (a test run, a benchmark).
    timer.unref();
  };

  const watch = (postmaster: Postmaster) => {
    void postmaster.ended.then((how) => {
      if (stopping || current !== postmaster) return;
      current = null;
      options.down();
      if (Date.now() - startedAt >= stableMs) failures = 0;
      const delay = nextDelay();
      log?.warn(`the embedded PostgreSQL (pid ${postmaster.pid}) ${how}; restarting it in ${seconds(delay)}`, { pid: postmaster.pid });
      schedule(delay);
    });
  };

  async function restart(): Promise<void> {
    let postmaster: Postmaster | null = null;
    try {
      const launched = await options.launch();
      postmaster = launched.postmaster;
      current = postmaster;
      await launched.ready;
      if (stopping) return;
      startedAt = Date.now();
      options.up();
      log?.info('the embedded PostgreSQL is running again', { pid: postmaster.pid, attempts: failures });
      watch(postmaster);
    } catch (error) {
      if (stopping) return;
      // A start that timed out may still be running: it is not ours to leave behind.
      if (postmaster && !postmaster.hasEnded) await postmaster.stop();
      current = null;
      const delay = nextDelay();
      const reason = error instanceof Error ? error.message : String(error);
      log?.warn(`the embedded PostgreSQL did not start again: ${reason}; next attempt in ${seconds(delay)}`);
      schedule(delay);
    }
  }

  watch(options.first);
  return {
    stop() {
      stopping ??= (async () => {
        if (timer) clearTimeout(timer);
        options.down();
        // Stopping a postmaster still starting also ends the restart that waits for it.
        await current?.stop();
        await restarting;
        await options.running()?.stop();
      })();
      return stopping;
    },
  };
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
