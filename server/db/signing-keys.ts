// The signing keys the database records (sql/0014): which one is current, and every public key. SQL only.
import type { Queryable } from './queryable.ts';

export interface SigningKeyRow {
  fingerprint: string;
  public_key: string;
  status: 'current' | 'published' | 'retired';
  added_by: string;
}

export async function findCurrentSigningKey(sql: Queryable): Promise<SigningKeyRow | null> {
  const [row] = await sql<SigningKeyRow[]>`select fingerprint, public_key, status, added_by from signing_keys where status = 'current'`;
  return row ?? null;
}

export async function listSigningKeys(sql: Queryable): Promise<SigningKeyRow[]> {
  return sql<SigningKeyRow[]>`select fingerprint, public_key, status, added_by from signing_keys order by added_at, fingerprint`;
}

/** Records a key (new keys with their public half) and its status; a current key demotes the previous one. */
export async function recordSigningKey(sql: Queryable, key: { fingerprint: string; publicKey: string; status: SigningKeyRow['status']; addedBy: string }): Promise<void> {
  if (key.status === 'current') {
    await sql`update signing_keys set status = 'published', changed_at = now() where status = 'current' and fingerprint <> ${key.fingerprint}`;
  }
  await sql`
    insert into signing_keys (fingerprint, public_key, status, added_by)
    values (${key.fingerprint}, ${key.publicKey}, ${key.status}, ${key.addedBy})
    on conflict (fingerprint) do update set status = excluded.status, changed_at = now()
      where signing_keys.status is distinct from excluded.status`;
}
