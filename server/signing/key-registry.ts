// The signing key shared by every server on one database. The database records the current key
// (sql/0014); a server opens its keyring against it under an advisory lock, so that servers starting
// together agree:
// - no key recorded yet: this server's key (its key file, its stored key, or one generated now)
//   becomes the database's current key;
// - the recorded key is this server's current key: nothing to do;
// - the recorded key is one this server has held (its previous key file, a key it generated or was
//   given): this server's key moves on and becomes current (a rotation by key file, re-signed in the
//   background), or, without a key file, the recorded key becomes this server's current key again;
// - a key this server never held: it refuses to start, with one line saying how to share the key
//   (RPMGATE_SIGNING_KEY_FILE), unless RPMGATE_SIGNING_KEY_ADD=1 says to make its own key current.
// A server never generates a key while the database names one, unless told to add its key.
import os from 'node:os';
import type { Sql } from 'postgres';
import { RpmgateError } from '../../common/errors.ts';
import { findCurrentSigningKey, recordSigningKey } from '../db/signing-keys.ts';
import type { Queryable } from '../db/queryable.ts';
import type { Logger } from '../log.ts';
import { Keyring, type KeyringOptions } from './keyring.ts';

export interface SharedKeyOptions extends KeyringOptions {
  /** RPMGATE_SIGNING_KEY_ADD=1. */
  add: boolean;
  log: Logger;
}

export async function openSharedKeyring(sql: Sql, options: SharedKeyOptions): Promise<Keyring> {
  const addedBy = `${os.hostname()}:${options.dataDir}`;
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended('signing-keys', 0))`;
    const recorded = await findCurrentSigningKey(tx);
    const keyring = await Keyring.open({ ...options, generate: recorded === null || options.add });
    const own = keyring.hasCurrent() ? keyring.current().info.fingerprint : null;
    if (recorded && own !== recorded.fingerprint) {
      if (!keyring.holds(recorded.fingerprint) && !options.add) {
        throw new RpmgateError(
          'usage',
          `the database's current signing key ${recorded.fingerprint} (from ${recorded.added_by}) is not held by this server` +
            `${own ? ` (its key is ${own})` : ''}: give every server the same key with RPMGATE_SIGNING_KEY_FILE, or set RPMGATE_SIGNING_KEY_ADD=1 to make this server's key current and re-sign every package with it`,
        );
      }
      if (!own) throw new RpmgateError('internal', 'the keyring opened without a key');
      if (!options.keyFile && keyring.holds(recorded.fingerprint) && !options.add) {
        // Another server made a key current that this one holds too: follow the database.
        await keyring.makeCurrent(recorded.fingerprint);
      } else {
        options.log.warn('signing key changed: this server makes its key current; packages are re-signed with it', { previous: recorded.fingerprint, current: own });
      }
    }
    await recordKeyring(tx, keyring, addedBy);
    return keyring;
  });
}

/** Writes every key of the keyring and their statuses to the database (after add, activate, retire). */
export async function recordKeyring(sql: Queryable, keyring: Keyring, addedBy = `${os.hostname()}`): Promise<void> {
  const keys = keyring.list();
  // The current key last: recording it demotes whatever the database held current.
  for (const key of [...keys.filter((key) => key.status !== 'current'), ...keys.filter((key) => key.status === 'current')]) {
    await recordSigningKey(sql, { fingerprint: key.fingerprint, publicKey: keyring.publicKeyArmored(key.fingerprint), status: key.status, addedBy });
  }
}
