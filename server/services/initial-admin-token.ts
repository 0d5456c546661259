// The first start of a server that has no admin at all (no RPMGATE_ADMIN_TOKEN, no live admin token in
// the database) mints one admin token and writes it to DATA_DIR/initial-admin-token (0600): whoever can
// read the data directory can then administer the server, and nobody else. The token is a normal token
// row ("initial-admin"), revocable like any other; the file is written once and never rewritten.
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from 'postgres';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createToken } from './tokens.ts';

export const initialAdminTokenFileName = 'initial-admin-token';

/** The file written now, or null when the server has an admin already. */
export async function ensureInitialAdminToken(sql: Sql, config: Config, log: Logger): Promise<string | null> {
  if (config.adminToken !== null) return null;
  const file = path.join(config.dataDir, initialAdminTokenFileName);
  // One server (or worker) at a time decides; the file is written before the row commits, so a token
  // that exists in the database was handed to the file.
  const written = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('rpmgate.initial-admin-token'))`;
    const [admin] = await tx`select 1 from tokens where role = 'admin' and revoked_at is null limit 1`;
    if (admin) return false;
    const { token } = await createToken(tx, { role: 'admin', name: 'initial-admin' }, { name: 'rpmgate first start', role: 'admin', tokenId: null, machineId: null });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
    return true;
  });
  if (!written) return null;
  log.info('initial admin token written', { file });
  return file;
}
