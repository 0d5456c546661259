// One-line structured log records on stderr. Quiet in tests unless RPMGATE_LOG is set.
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(enabled = true): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (!enabled) return;
    const record = { time: new Date().toISOString(), level, message, ...fields };
    process.stderr.write(`${JSON.stringify(record)}\n`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export const silentLogger: Logger = createLogger(false);
