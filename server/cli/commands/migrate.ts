// `rpmgate migrate`: apply pending SQL migrations to the configured database, then exit.
import { readConfig } from '../../config.ts';
import { lockDataDir } from '../../data-dir-lock.ts';
import { openDatabase } from '../../db/connect.ts';
import { migrate } from '../../db/migrate.ts';
import { createOutput } from '../../../common/cli-output.ts';

export async function migrateCommand(options: { json?: boolean }): Promise<void> {
  const config = readConfig();
  // The embedded database belongs to the server of this data dir, which migrates at start anyway.
  const lock = config.databaseUrl ? null : await lockDataDir(config.dataDir);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch(async (error) => {
    await lock?.release();
    throw error;
  });
  try {
    const result = await migrate(database.sql);
    createOutput(Boolean(options.json)).result(result, () =>
      result.applied.length === 0
        ? `database is up to date (schema ${result.current})`
        : `applied ${result.applied.join(', ')} (schema ${result.current})`,
    );
  } finally {
    await database.close();
    await lock?.release();
  }
}
