// `rpmgate store fsck [--repair]`: asks the server which rows lost their blob and which blobs no row
// names. `rpmgate store migrate --to s3://...`: copies the configured store (this machine's
// environment: RPMGATE_DATA_DIR or RPMGATE_STORE_URL) to another, online, verifying each blob's sha256.
import { RpmgateError } from '../../../common/errors.ts';
import type { FsckReport } from '../../services/store-fsck.ts';
import type { CommandIo } from '../global-options.ts';

export async function storeFsckCommand(io: CommandIo, options: { repair?: boolean }) {
  const { body } = await io.client.post<FsckReport>('/api/v1/store/fsck', { repair: options.repair === true });
  io.out.result(body, () => {
    const lines = [`${body.store}: ${body.named} blobs named by the database, ${body.held} held by the store`];
    for (const damaged of body.damaged) {
      const what = damaged.foundSize === null ? 'missing' : `${damaged.foundSize} bytes instead of ${damaged.expectedSize}`;
      lines.push(`damaged: ${damaged.nevra} (${damaged.role} file ${damaged.sha256}): ${what}`);
    }
    for (const orphan of body.orphans) lines.push(`${orphan.removed ? 'removed' : 'unnamed'}: blob ${orphan.sha256} (${orphan.size} bytes, ${orphan.modifiedAt})`);
    if (body.damaged.length > 0) lines.push('upload each damaged package again (the same file restores its blob), or restore the store from a backup');
    if (body.damaged.length === 0 && body.orphans.length === 0) lines.push('the store is consistent');
    return lines.join('\n');
  });
  if (body.damaged.length > 0) throw new RpmgateError('conflict', `${body.damaged.length} stored file(s) are missing or damaged`);
}

export async function storeMigrateCommand(io: CommandIo, options: { to: string }) {
  const { migrateStore } = await import('../../store/migrate.ts');
  const report = await migrateStore(options.to, { progress: (line) => io.out.progress(line) });
  io.out.result(report, () => `${report.copied} blob(s) copied to ${report.target}, ${report.present} already there, ${report.bytes} bytes verified by sha256`);
}
