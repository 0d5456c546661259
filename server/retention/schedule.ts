// RPMGATE_CLEANUP_SCHEDULE: runs a job daily at a UTC time, or every interval. Each server keeps its
// own timer; the job's advisory lock makes one of them run it.
import type { CleanupSchedule } from './settings.ts';

export function scheduleCleanup(schedule: CleanupSchedule, run: () => Promise<void>, clock: () => Date): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      await run();
      arm();
    }, delayUntilNext(schedule, clock()));
    timer.unref();
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

export function delayUntilNext(schedule: CleanupSchedule, now: Date): number {
  if (schedule.kind === 'every') return schedule.intervalMs;
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), schedule.hour, schedule.minute));
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}
