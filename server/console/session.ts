// Console sessions: a person's token is exchanged once for a random session secret kept in an HttpOnly
// cookie; the database keeps only its sha256 (sql/0013). The token itself is never stored by the
// console nor shown again. Each session's CSRF token is derived from its secret (HMAC), so forms carry
// a value only the holder of the cookie can know, and nothing more is stored.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RpmgateError } from '../../common/errors.ts';
import type { Role } from '../../common/roles.ts';
import type { AppContext } from '../context.ts';
import {
  deleteConsoleSession,
  deleteExpiredConsoleSessions,
  extendConsoleSession,
  findConsoleSession,
  insertConsoleSession,
} from '../db/console-sessions.ts';
import { authenticateToken, digestToken, type Principal } from '../services/tokens.ts';

/** The roles of people: host tokens (agent, enrollment) cannot open the console. */
export const consoleRoles: readonly Role[] = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'];
/** A session ends 12 hours after log-in at the latest, and after 2 hours without a request. */
export const sessionLifetimeMs = 12 * 3600_000;
export const sessionIdleMs = 2 * 3600_000;
/** The idle end is moved forward at most once per this interval (not a write per page). */
const extendEveryMs = 5 * 60_000;

export interface ConsoleSession {
  principal: Principal;
  /** The value every form of this session carries. */
  csrfToken: string;
  /** sha256 of the cookie's secret: what the database knows the session by. */
  digest: Buffer;
}

/** Exchanges a token for a new session; answers the secret to put in the cookie. */
export async function openSession(ctx: AppContext, token: string): Promise<{ secret: string; principal: Principal }> {
  const principal = await authenticateToken(ctx.sql, token, ctx.config.adminToken);
  if (!principal) throw new RpmgateError('unauthorized', 'this token is not valid (unknown or revoked)');
  if (!consoleRoles.includes(principal.role)) {
    throw new RpmgateError('forbidden', `a token of role ${principal.role} is for hosts, not for the console`);
  }
  const secret = randomBytes(32).toString('base64url');
  await deleteExpiredConsoleSessions(ctx.sql);
  await insertConsoleSession(ctx.sql, {
    digest: sessionDigest(secret),
    tokenId: principal.tokenId,
    bootstrapDigest: principal.tokenId === null ? digestToken(token) : null,
    lifetimeMs: sessionLifetimeMs,
    idleMs: sessionIdleMs,
  });
  return { secret, principal };
}

/** The live session a cookie secret names, or null (unknown, ended, or its token revoked). */
export async function readSession(ctx: AppContext, secret: string): Promise<ConsoleSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const digest = sessionDigest(secret);
  const row = await findConsoleSession(ctx.sql, digest);
  if (!row) return null;
  let principal: Principal;
  if (row.token_id === null) {
    // The bootstrap admin's session lasts only while the server runs with that same admin token.
    const admin = ctx.config.adminToken;
    if (admin === null || !row.bootstrap_sha256 || !timingSafeEqual(row.bootstrap_sha256, digestToken(admin))) return null;
    principal = { name: 'bootstrap-admin', role: 'admin', tokenId: null, machineId: null };
  } else {
    if (row.revoked || row.role === null || row.name === null) return null;
    principal = { name: row.name, role: row.role, tokenId: row.token_id, machineId: row.machine_id };
  }
  if (row.idle_expires_at.getTime() - Date.now() < sessionIdleMs - extendEveryMs) await extendConsoleSession(ctx.sql, row.id, sessionIdleMs);
  return { principal, csrfToken: csrfTokenFor(secret), digest };
}

export async function closeSession(ctx: AppContext, session: ConsoleSession): Promise<void> {
  await deleteConsoleSession(ctx.sql, session.digest);
}

export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('rpmgate console form').digest('base64url');
}

/** Constant-time comparison of a submitted CSRF value with the expected one. */
export function csrfMatches(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(submitted));
}

function sessionDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
