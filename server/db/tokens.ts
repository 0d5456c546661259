// Queries on the tokens table. Tokens are looked up by the sha256 of the presented secret.
import type { Queryable } from './queryable.ts';
import type { Role } from '../../common/roles.ts';

export interface TokenRow {
  id: number;
  name: string;
  role: Role;
  created_at: Date;
  created_by: string | null;
  revoked_at: Date | null;
  machine_id: string | null;
}

export async function insertToken(
  sql: Queryable,
  token: { name: string; role: Role; digest: Buffer; createdBy: string | null },
): Promise<TokenRow> {
  const [row] = await sql<TokenRow[]>`
    insert into tokens (name, role, token_sha256, created_by)
    values (${token.name}, ${token.role}, ${token.digest}, ${token.createdBy})
    returning id, name, role, created_at, created_by, revoked_at, machine_id`;
  return row!;
}

export async function findTokenByDigest(sql: Queryable, digest: Buffer): Promise<TokenRow | null> {
  const [row] = await sql<TokenRow[]>`
    select id, name, role, created_at, created_by, revoked_at, machine_id
    from tokens where token_sha256 = ${digest}`;
  return row ?? null;
}

/**
 * Binds an agent token to a host, once: returns the machine id the token is bound to afterwards, or
 * null when another live token holds that machine already (sql/0008 allows one).
 */
export async function bindTokenToMachine(sql: Queryable, tokenId: number, machineId: string): Promise<string | null> {
  try {
    const [row] = await sql<{ machine_id: string }[]>`
      update tokens set machine_id = coalesce(machine_id, ${machineId})
      where id = ${tokenId}
        and (machine_id is not null
             or not exists (select 1 from tokens o where o.machine_id = ${machineId} and o.revoked_at is null and o.id <> ${tokenId}))
      returning machine_id`;
    return row?.machine_id ?? null;
  } catch (error) {
    // A concurrent binding of another token to the same machine won the race.
    if ((error as { constraint_name?: string }).constraint_name === 'tokens_one_live_per_machine') return null;
    throw error;
  }
}

/** Whether a live token is bound to the machine. */
export async function hasLiveTokenFor(sql: Queryable, machineId: string): Promise<boolean> {
  const [row] = await sql`select 1 from tokens where machine_id = ${machineId} and revoked_at is null limit 1`;
  return row !== undefined;
}

/** Every token, newest first; the digest never leaves the database. */
export async function listTokens(sql: Queryable): Promise<TokenRow[]> {
  return sql<TokenRow[]>`
    select id, name, role, created_at, created_by, revoked_at, machine_id
    from tokens order by id desc`;
}

/** Marks a live token revoked; null when there is no such token or it was revoked already. */
export async function revokeTokenRow(sql: Queryable, id: number): Promise<TokenRow | null> {
  const [row] = await sql<TokenRow[]>`
    update tokens set revoked_at = now() where id = ${id} and revoked_at is null
    returning id, name, role, created_at, created_by, revoked_at, machine_id`;
  return row ?? null;
}

export async function findTokenById(sql: Queryable, id: number): Promise<TokenRow | null> {
  const [row] = await sql<TokenRow[]>`
    select id, name, role, created_at, created_by, revoked_at, machine_id from tokens where id = ${id}`;
  return row ?? null;
}
