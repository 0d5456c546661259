// `rpmgate check --all`: the entry checks run again over every stored package, after a policy or an
// exception changed, on the files as they were uploaded. It reports the packages that would now be
// refused and deletes nothing; unless it is a dry run, each package's recorded findings are replaced
// (set creation's requireClean reads them). Packages go through in batches, several at once, so that
// rpmlint checks them in shared runs; memory stays flat with the number of packages.
import { isDeepStrictEqual } from 'node:util';
import { readRpmFile } from '../../common/rpm/reader.ts';
import type { AppContext } from '../context.ts';
import { findingsOf, replaceFindings } from '../db/package-findings.ts';
import type { Finding } from './findings.ts';

export interface RecheckReport {
  dryRun: boolean;
  checked: number;
  /** Packages whose findings differ from the recorded ones. */
  changed: number;
  /** Packages that an upload today would see refused. */
  refused: { nevra: string; findings: Finding[] }[];
  /** Packages whose original file could not be read (see rpmgate store fsck). */
  unreadable: { nevra: string; error: string }[];
}

interface StoredRow {
  id: number;
  nevra: string;
  original_sha256: string;
  is_source: boolean;
  sourcerpm: string | null;
  uploaded_at: Date;
  source_stored: boolean;
}

const batchSize = 32;

export async function recheckStore(ctx: AppContext, options: { dryRun: boolean; now?: Date }): Promise<RecheckReport> {
  const now = options.now ?? new Date();
  const report: RecheckReport = { dryRun: options.dryRun, checked: 0, changed: 0, refused: [], unreadable: [] };
  const sourceWithinMs = ctx.entryChecks.policy.sourceWithinDays * 86_400_000;
  let after = 0;
  for (;;) {
    const rows = await ctx.sql<StoredRow[]>`
      select p.id, p.nevra, p.original_sha256, p.is_source, p.sourcerpm, p.uploaded_at,
             exists (select 1 from packages s where s.filename = p.sourcerpm) as source_stored
      from packages p where p.id > ${after} order by p.id limit ${batchSize}`;
    if (rows.length === 0) {
      report.refused.sort((a, b) => a.nevra.localeCompare(b.nevra));
      return report;
    }
    after = Number(rows[rows.length - 1]!.id);
    await Promise.all(
      rows.map(async (row) => {
        let parsed;
        // A local file for the reader and rpmlint: the blob itself on a file system store, a copy from S3.
        let local: { path: string; release(): Promise<void> };
        try {
          local = await ctx.store.localCopy(row.original_sha256);
        } catch (error) {
          report.unreadable.push({ nevra: row.nevra, error: error instanceof Error ? error.message : String(error) });
          return;
        }
        try {
          parsed = await readRpmFile(local.path);
        } catch (error) {
          await local.release();
          report.unreadable.push({ nevra: row.nevra, error: error instanceof Error ? error.message : String(error) });
          return;
        }
        const more: Finding[] = [];
        const severity = ctx.entryChecks.policy.severities['source-missing'];
        if (severity !== 'off' && !row.is_source && row.sourcerpm && !row.source_stored && now.getTime() - row.uploaded_at.getTime() > sourceWithinMs) {
          more.push({ check: 'source-missing', severity, message: `its source package ${row.sourcerpm} is not stored, ${ctx.entryChecks.policy.sourceWithinDays} days after the upload` });
        }
        const verdict = await ctx.entryChecks.check(local.path, parsed, more).finally(() => local.release());
        report.checked++;
        if (verdict.refused) report.refused.push({ nevra: row.nevra, findings: verdict.findings });
        if (!isDeepStrictEqual(await findingsOf(ctx.sql, row.id), verdict.findings)) {
          report.changed++;
          if (!options.dryRun) await ctx.sql.begin((tx) => replaceFindings(tx, row.id, verdict.findings));
        }
      }),
    );
  }
}
