// One-line structured log records on stderr (pino): one JSON object per line, or with
// RPMGATE_LOG_FORMAT=pretty one readable text line for a terminal. Quiet in tests unless RPMGATE_LOG is set.
// Callers write log.info(message, fields); an Error under the field `err` is written with its stack and
// its chain of causes.
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Whether a record of that level is written (to skip building one that is not). */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where the lines go (default stderr, written synchronously so that a crash loses none). */
  destination?: { write(line: string): void };
}

/** createLogger(false): silent; createLogger() or createLogger(options): writing. */
export function createLogger(options: boolean | LoggerOptions = true): Logger {
  const settings: LoggerOptions = typeof options === 'boolean' ? {} : options;
  const enabled = options !== false;
  const stderr = settings.destination ?? pino.destination({ fd: 2, sync: true });
  const destination: DestinationStream = settings.format === 'pretty' ? { write: (line: string) => stderr.write(prettyLine(line)) } : stderr;
  const logger: Pino = pino(
    {
      level: enabled ? (settings.level ?? 'info') : 'silent',
      messageKey: 'message',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    destination,
  );
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    enabled: (level) => logger.isLevelEnabled(level),
  };
}

export const silentLogger: Logger = createLogger(false);

/** `12:04:05.120 INFO  message key=value key="two words"` from one JSON record. */
function prettyLine(json: string): string {
  const { time, level, message, pid: _pid, err, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const parts = [clock, String(level).toUpperCase().padEnd(5), String(message ?? '')];
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${prettyValue(value)}`);
  let line = parts.join(' ');
  if (err && typeof err === 'object') line += `\n  ${String((err as { stack?: unknown }).stack ?? (err as { message?: unknown }).message).replaceAll('\n', '\n  ')}`;
  return `${line}\n`;
}

function prettyValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
