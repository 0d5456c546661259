// API tokens: minted here, shown once, stored as a sha256 digest. A token is 32 random bytes, so an
// unsalted fast digest is safe (nothing to brute-force) and lets a lookup use the unique index.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Queryable } from '../db/queryable.ts';
import { RpmgateError } from '../../common/errors.ts';
import { isRole, type Role } from '../../common/roles.ts';
import { findTokenByDigest, findTokenById, insertToken, listTokens, revokeTokenRow, type TokenRow } from '../db/tokens.ts';

export interface Principal {
  /** The token's name, recorded as "who" in audit trails. */
  name: string;
  role: Role;
  /** null for the RPMGATE_ADMIN_TOKEN bootstrap token, which has no row. */
  tokenId: number | null;
  machineId: string | null;
}

export interface CreatedToken {
  token: string;
  role: Role;
  name: string;
}

const tokenPrefix = 'rg_';

export async function createToken(
  sql: Queryable,
  request: { role: unknown; name: unknown },
  createdBy: Principal,
): Promise<CreatedToken> {
  if (!isRole(request.role)) {
    throw new RpmgateError('bad_request', `role must be one of developer, integ, qa, release_manager, cpe, admin, agent, enrollment`);
  }
  if (typeof request.name !== 'string' || !/^[\w.@:/-]{1,100}$/.test(request.name)) {
    throw new RpmgateError('bad_request', 'name must be 1 to 100 characters of letters, digits and . _ - @ : /');
  }
  const token = tokenPrefix + randomBytes(32).toString('base64url');
  await insertToken(sql, { name: request.name, role: request.role, digest: digestToken(token), createdBy: createdBy.name });
  return { token, role: request.role, name: request.name };
}

/** The principal behind a presented secret, or null when it is unknown or revoked. */
export async function authenticateToken(sql: Sql, secret: string, adminToken: string | null): Promise<Principal | null> {
  if (adminToken !== null && constantTimeEquals(secret, adminToken)) {
    return { name: 'bootstrap-admin', role: 'admin', tokenId: null, machineId: null };
  }
  if (!secret.startsWith(tokenPrefix) || secret.length > 200) return null;
  const row = await findTokenByDigest(sql, digestToken(secret));
  if (!row || row.revoked_at) return null;
  return { name: row.name, role: row.role, tokenId: row.id, machineId: row.machine_id };
}

export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function constantTimeEquals(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** A token as admins see it: everything but the secret. */
export interface TokenSummary {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
  machineId: string | null;
}

function summarise(row: TokenRow): TokenSummary {
  return {
    id: Number(row.id),
    name: row.name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    machineId: row.machine_id,
  };
}

export async function listTokenSummaries(sql: Queryable): Promise<TokenSummary[]> {
  return (await listTokens(sql)).map(summarise);
}

/**
 * Revokes a token: the next request that presents it is refused, on every server, since each request
 * looks its token up in the database.
 */
export async function revokeToken(sql: Queryable, id: number): Promise<TokenSummary> {
  const revoked = await revokeTokenRow(sql, id);
  if (revoked) return summarise(revoked);
  const existing = await findTokenById(sql, id);
  if (!existing) throw new RpmgateError('not_found', `no token ${id}`);
  throw new RpmgateError('conflict', `token ${id} (${existing.name}) was revoked at ${existing.revoked_at!.toISOString()}`);
}
