// Runs the real `rpm -qp --qf` over package files for cross-checks, many files per invocation.
// rpm gets a throwaway --dbpath and HOME (Debian's rpm otherwise creates ~/.rpmdb: see
// DNF-ON-DEBIAN.md), LC_ALL=C (so I18N strings come out in the C locale, as the reader takes
// them), and --nosignature --nodigest unless digests are asked for (the reader's digest checks are
// tested on their own; with them, rpm -qp checks header digests and signatures, not the payload).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Separator the query format appends after each package; never part of a header string here. */
export const RECORD_SEPARATOR = '\x1e';

/** Whether an `rpm` binary answers here (Debian's rpm 4.18 in CI and on the project's machines). */
export async function rpmAvailable(): Promise<boolean> {
  try {
    await run('rpm', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * `rpm -qp --qf FORMAT FILE...`: one Buffer per file, in order. The format may use literal control
 * characters as separators (rpm copies them through). Throws when rpm fails or prints fewer records
 * than files, so a silently skipped file cannot shift the results.
 */
export async function queryRpmFiles(
  files: readonly string[],
  format: string,
  options: { checkDigests?: boolean; batchSize?: number } = {},
): Promise<Buffer[]> {
  const batchSize = options.batchSize ?? 120;
  const verification = options.checkDigests ? [] : ['--nosignature', '--nodigest'];
  const scratch = await mkdtemp(path.join(tmpdir(), 'rpmgate-rpm-query-'));
  try {
    const results: Buffer[] = [];
    for (let i = 0; i < files.length; i += batchSize) {
      const batch = files.slice(i, i + batchSize);
      const { stdout } = await run(
        'rpm',
        ['-qp', '--dbpath', path.join(scratch, 'db'), ...verification, '--qf', format + RECORD_SEPARATOR, ...batch],
        {
          encoding: 'buffer',
          maxBuffer: 512 * 1024 * 1024,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, LC_ALL: 'C' },
        },
      );
      const records = splitRecords(stdout);
      if (records.length !== batch.length) {
        throw new Error(`rpm printed ${records.length} records for ${batch.length} files`);
      }
      results.push(...records);
    }
    return results;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function splitRecords(output: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = output.indexOf(RECORD_SEPARATOR.charCodeAt(0), start);
    if (end < 0) break;
    records.push(output.subarray(start, end));
    start = end + 1;
  }
  return records;
}
