// RFC 9457 problem documents: every API error leaves the server as application/problem+json with
// type, title, status and detail, whatever was thrown underneath. No stack trace reaches a user.
import type { Context } from 'hono';
import type { Metrics } from '../ops/metrics.ts';
import { HTTPException } from 'hono/http-exception';
import { codeForStatus, errorCodes, isRpmgateError, RpmgateError } from '../../common/errors.ts';
import type { Logger } from '../log.ts';
import { requestIdOf } from '../ops/request-log.ts';
import { MissingStoredFile } from './file-response.ts';

export const problemTypeBase = 'https://rpmgate.dev/problems/';

export function problemResponse(error: RpmgateError, headers: Record<string, string> = {}, requestId?: string): Response {
  const body = {
    type: problemTypeBase + error.code,
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extra,
    ...(requestId === undefined ? {} : { requestId }),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/** Maps anything thrown to an RpmgateError: database outages become 503, the unknown becomes 500. */
export function toRpmgateError(error: unknown, log: Logger, requestId?: string): RpmgateError {
  // The one log line of an error the client cannot be told about: with its cause chain and the request.
  const context = requestId === undefined ? {} : { requestId };
  if (isRpmgateError(error)) return error;
  if (error instanceof HTTPException) {
    const code = codeForStatus(error.status);
    return new RpmgateError(code, error.message || errorCodes[code].title);
  }
  if (isImmutabilityViolation(error)) {
    // Raised by the schema's triggers (sql/0002): a set's members or level moved in a forbidden way.
    return new RpmgateError('conflict', (error as Error).message);
  }
  if (error instanceof MissingStoredFile) {
    log.error('stored file missing', { ...context, path: error.path, expectedSize: error.expectedSize, foundSize: error.foundSize });
    return new RpmgateError('internal', 'the stored file is missing or damaged on this server; it has been logged (an administrator can list such files with rpmgate store fsck)');
  }
  if (isDatabaseUnavailable(error)) {
    log.error('database unavailable', { ...context, err: error });
    return new RpmgateError('unavailable', 'the database is unavailable; try again shortly');
  }
  log.error('unexpected error', { ...context, err: error instanceof Error ? error : new Error(String(error)) });
  return new RpmgateError('internal', 'an internal error occurred; it has been logged');
}

export function onError(log: Logger, metrics?: Pick<Metrics, 'countDatabaseError'>) {
  return function renderProblem(error: unknown, c: Context): Response {
    const requestId = requestIdOf(c);
    if (isDatabaseUnavailable(error)) metrics?.countDatabaseError('unavailable');
    else if (error instanceof Error && error.name === 'PostgresError' && !isImmutabilityViolation(error)) metrics?.countDatabaseError('query');
    const problem = toRpmgateError(error, log, requestId);
    const headers: Record<string, string> = problem.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="rpmgate"' } : {};
    if (c.req.path.startsWith('/repo/') && problem.code === 'unauthorized') headers['www-authenticate'] = 'Basic realm="rpmgate"';
    if (problem.code === 'range_not_satisfiable') headers['content-range'] = `bytes */${String(problem.extra.size)}`;
    return problemResponse(problem, headers, requestId);
  };
}

/** The socket errors of a connection to PostgreSQL that broke or could not be made. */
const connectionErrnos = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTCONN', 'EAI_AGAIN']);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (syscall === 'connect') return true; // ECONNREFUSED, or ENOENT for a vanished Unix socket
  if (typeof code !== 'string') return false;
  // A query in flight when PostgreSQL went away: its socket was reset or closed under it.
  if (connectionErrnos.has(code)) return true;
  // postgres.js's CONNECT_TIMEOUT / CONNECTION_*; PostgreSQL's 57P0x (shutting down, crashed, starting
  // up, in recovery), 08xxx (connection) and 53300 (too many connections).
  return code.startsWith('CONNECT') || /^57P0[1-3]$/.test(code) || code.startsWith('08') || code === '53300';
}

function isImmutabilityViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && (code === 'P0001' || code === 'P0002');
}
