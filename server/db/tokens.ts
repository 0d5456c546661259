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

/** Binds an agent token to a host, once: returns the machine id the token is bound to afterwards. */
export async function bindTokenToMachine(sql: Queryable, tokenId: number, machineId: string): Promise<string> {
  const [row] = await sql<{ machine_id: string }[]>`
    update tokens set machine_id = coalesce(machine_id, ${machineId})
    where id = ${tokenId}
    returning machine_id`;
  return row!.machine_id;
}
