// Queries on the web console's sessions (sql/0013). Sessions are found by the sha256 of the cookie's
// secret; the token a session came from is joined on every read, so a revoked token ends it at once.
// SQL only, no policy.
import type { Role } from '../../common/roles.ts';
import type { Queryable } from './queryable.ts';

export interface ConsoleSessionRow {
  id: number;
  token_id: number | null;
  bootstrap_sha256: Buffer | null;
  /** The token's name and role (null for a bootstrap session). */
  name: string | null;
  role: Role | null;
  machine_id: string | null;
  revoked: boolean;
  idle_expires_at: Date;
}

export async function insertConsoleSession(
  sql: Queryable,
  session: { digest: Buffer; tokenId: number | null; bootstrapDigest: Buffer | null; lifetimeMs: number; idleMs: number },
): Promise<void> {
  await sql`
    insert into console_sessions (session_sha256, token_id, bootstrap_sha256, expires_at, idle_expires_at)
    values (${session.digest}, ${session.tokenId}, ${session.bootstrapDigest},
            now() + ${session.lifetimeMs} * interval '1 millisecond', now() + ${session.idleMs} * interval '1 millisecond')`;
}

/** A live session (neither end passed) with the token it came from. */
export async function findConsoleSession(sql: Queryable, digest: Buffer): Promise<ConsoleSessionRow | null> {
  const [row] = await sql<ConsoleSessionRow[]>`
    select s.id, s.token_id, s.bootstrap_sha256, t.name, t.role, t.machine_id, t.revoked_at is not null as revoked, s.idle_expires_at
    from console_sessions s left join tokens t on t.id = s.token_id
    where s.session_sha256 = ${digest} and s.expires_at > now() and s.idle_expires_at > now()`;
  return row ?? null;
}

/** Moves the idle end forward (never past the absolute end). */
export async function extendConsoleSession(sql: Queryable, id: number, idleMs: number): Promise<void> {
  await sql`
    update console_sessions set idle_expires_at = least(expires_at, now() + ${idleMs} * interval '1 millisecond')
    where id = ${id}`;
}

export async function deleteConsoleSession(sql: Queryable, digest: Buffer): Promise<void> {
  await sql`delete from console_sessions where session_sha256 = ${digest}`;
}

/** Forgets sessions that have ended, by either end. */
export async function deleteExpiredConsoleSessions(sql: Queryable): Promise<number> {
  const rows = await sql`delete from console_sessions where expires_at <= now() or idle_expires_at <= now() returning id`;
  return rows.length;
}
