// `rpmgate backup DIR` and `rpmgate restore DIR` (server/ops/backup): run on the server's machine, with
// its RPMGATE_DATA_DIR and DATABASE_URL. A backup is made while the server runs; a restore fills a new,
// empty data dir, which `rpmgate serve` then serves.
import { createOutput } from '../../../common/cli-output.ts';
import { readConfig } from '../../config.ts';
import { backup, restore } from '../../ops/backup/backup.ts';

export async function backupCommand(dir: string, options: { json?: boolean }): Promise<void> {
  const report = await backup(readConfig(), dir);
  createOutput(Boolean(options.json)).result(report, () =>
    [
      `backup of ${report.createdAt} in ${report.dir}`,
      `${report.tables} tables, ${report.rows} rows; ${report.blobs} package files named, ${report.blobsCopied} copied now (${report.bytesCopied} bytes), the rest already there; ${report.keys} key file(s)`,
    ].join('\n'),
  );
}

export async function restoreCommand(dir: string, options: { json?: boolean }): Promise<void> {
  const report = await restore(readConfig(), dir);
  createOutput(Boolean(options.json)).result(report, () =>
    [`restored the backup of ${report.createdAt} into ${report.dataDir}`, `${report.rows} rows, ${report.blobs} package files, ${report.keys} key file(s); start it with rpmgate serve`].join('\n'),
  );
}
