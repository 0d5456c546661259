// The one error type of rpmgate. Domain code throws it with a stable code; the HTTP edge maps the
// code to a status and application/problem+json, the CLI edge to one line on stderr and an exit code.

export const errorCodes = {
  invalid_rpm: { status: 400, exit: 1, title: 'Not a valid RPM' },
  bad_request: { status: 400, exit: 2, title: 'Bad request' },
  unauthorized: { status: 401, exit: 2, title: 'Authentication required' },
  forbidden: { status: 403, exit: 1, title: 'Forbidden' },
  not_found: { status: 404, exit: 1, title: 'Not found' },
  // No API route at that path: a wrong --server URL (a usage error), not a missing object.
  no_route: { status: 404, exit: 2, title: 'No such API route' },
  conflict: { status: 409, exit: 1, title: 'Conflict' },
  payload_too_large: { status: 413, exit: 1, title: 'Payload too large' },
  range_not_satisfiable: { status: 416, exit: 1, title: 'Range not satisfiable' },
  unprocessable: { status: 422, exit: 1, title: 'Unprocessable' },
  unavailable: { status: 503, exit: 2, title: 'Service unavailable' },
  connection: { status: 502, exit: 2, title: 'Cannot reach the server' },
  // An upstream repository (a mirror) failed: unreachable, 404, bad checksum or signature, malformed.
  upstream: { status: 502, exit: 1, title: 'Upstream repository failed' },
  upstream_timeout: { status: 504, exit: 1, title: 'Upstream repository timed out' },
  // The answer came from something other than rpmgate (a web page, another API, a proxy's error page).
  not_rpmgate: { status: 502, exit: 2, title: 'Not an rpmgate server' },
  usage: { status: 400, exit: 2, title: 'Usage error' },
  internal: { status: 500, exit: 2, title: 'Internal error' },
  // The answer is "no": hosts drift from their set (a command's verdict, not a failed request).
  drift: { status: 409, exit: 1, title: 'Drift' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class RpmgateError extends Error {
  override readonly name = 'RpmgateError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra members for the problem document (findings, unresolved dependencies, ...). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get exitCode(): number {
    return errorCodes[this.code].exit;
  }
}

/** The RPM reader's error: a damaged or unsupported file, with a message fit for the uploader. */
export class RpmFormatError extends RpmgateError {
  constructor(message: string) {
    super('invalid_rpm', message);
  }
}

/**
 * By class, or by shape: the bundled CLI runs the server's commands from the sources (server-sources.ts),
 * whose RpmgateError is another class object than the bundle's.
 */
export function isRpmgateError(error: unknown): error is RpmgateError {
  if (error instanceof RpmgateError) return true;
  if (!(error instanceof Error) || error.name !== 'RpmgateError') return false;
  const { code, exitCode } = error as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code in errorCodes && typeof exitCode === 'number';
}

/** The error code whose HTTP status is `status` (the first listed), for errors that arrive as a bare status. */
export function codeForStatus(status: number): ErrorCode {
  const entry = Object.entries(errorCodes).find(([, value]) => value.status === status);
  return (entry?.[0] as ErrorCode | undefined) ?? (status >= 500 ? 'internal' : 'bad_request');
}
