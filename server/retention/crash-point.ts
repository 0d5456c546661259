// Named points of the cleanup where the crash tests kill the process (SIGKILL, as a power cut would):
// RPMGATE_TEST_CRASH_AT=<point> makes the server die there. Unset, this does nothing.
export type CrashPoint = 'cleanup:warned' | 'cleanup:one-deleted' | 'cleanup:rows-deleted' | 'cleanup:one-file-removed';

export function crashPoint(point: CrashPoint): void {
  if (process.env.RPMGATE_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
