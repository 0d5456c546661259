// Which key signs for this database. Every server on one database must sign with the same key: a
// server whose current key is not the database's refuses to start (it would re-sign every package with
// its own key, and hosts trusting the other key would refuse them) unless told to take over.
import { RpmgateError } from '../../common/errors.ts';
import type { Queryable } from '../db/queryable.ts';
import type { Logger } from '../log.ts';
import type { Keyring } from './keyring.ts';

export interface KeyOfRecordOptions {
  /** RPMGATE_SIGNING_KEY_TAKEOVER=1: this server's key becomes current for the database. */
  takeover: boolean;
  log: Logger;
}

/**
 * At start: records this server's current key when the database has none; accepts it when it is the
 * database's, or when the database's key is one this server's keyring knows (a rotation made here:
 * `key activate`, or RPMGATE_SIGNING_KEY_FILE pointed at a new key); refuses otherwise.
 */
export async function claimKeyOfRecord(sql: Queryable, keyring: Keyring, options: KeyOfRecordOptions): Promise<void> {
  const ours = keyring.current().info.fingerprint;
  const [row] = await sql<{ fingerprint: string }[]>`select fingerprint from signing_key_of_record`;
  if (row?.fingerprint === ours) return;
  if (row && !options.takeover && !keyring.list().some((key) => key.fingerprint === row.fingerprint)) {
    throw new RpmgateError(
      'conflict',
      `the database is signed for by key ${row.fingerprint}, which this server does not hold (its key is ${ours}): ` +
        'every server on one database signs with the same key, so give this one that key with RPMGATE_SIGNING_KEY_FILE ' +
        '(or set RPMGATE_SIGNING_KEY_TAKEOVER=1 to make this server\'s key current and re-sign every package)',
    );
  }
  if (row) options.log.warn('signing key of record changed', { from: row.fingerprint, to: ours, takeover: options.takeover });
  await recordKeyOfRecord(sql, ours);
}

/** Makes `fingerprint` the database's key (after `key activate`, in the same request). */
export async function recordKeyOfRecord(sql: Queryable, fingerprint: string): Promise<void> {
  await sql`
    insert into signing_key_of_record (fingerprint) values (${fingerprint})
    on conflict (singleton) do update set fingerprint = excluded.fingerprint, recorded_at = now()`;
}
