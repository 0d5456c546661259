// A Logger that keeps every record as the JSON line rpmgate's logger would write, for tests that
// assert on what the server logged.
import type { Logger } from '../../server/log.ts';

export interface RecordingLog extends Logger {
  lines: string[];
  records(): Record<string, unknown>[];
}

export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  };
  return {
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    debug: write('debug'),
    enabled: () => true,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
}
