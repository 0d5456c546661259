// A server's stderr as log records: one JSON object per line (other lines, if any, skipped), so that
// tests ask about fields, whatever order the logger writes its keys in.
export type LogRecord = Record<string, unknown> & { level?: string; message?: string };

export function logRecords(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogRecord);
}
