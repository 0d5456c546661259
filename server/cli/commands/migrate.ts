// `rpmgate migrate`: apply pending SQL migrations to the configured database, then exit.
import { readConfig } from '../../config.ts';
import { openDatabase } from '../../db/connect.ts';
import { migrate } from '../../db/migrate.ts';
import { createOutput } from '../output.ts';

export async function migrateCommand(options: { json?: boolean }): Promise<void> {
  const config = readConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const result = await migrate(database.sql);
    createOutput(Boolean(options.json)).result(result, () =>
      result.applied.length === 0
        ? `database is up to date (schema ${result.current})`
        : `applied ${result.applied.join(', ')} (schema ${result.current})`,
    );
  } finally {
    await database.close();
  }
}
