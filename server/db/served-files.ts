// The files a package is served as: the current one (on its packages row) and the ones re-signing
// replaced (package_previous_files, sql/0010), which stay downloadable at their own hrefs. SQL only.
import type { PackageRow } from './packages.ts';
import type { Queryable } from './queryable.ts';

export interface ServedFileRow {
  sha256: string;
  size: number;
  /** When this file began to be served: its Last-Modified. */
  served_since: Date;
}

/** The file replacing a package's served file, as re-signing records it. */
export interface ReplacementFile {
  sha256: string;
  size: number;
  headerRange: { start: number; end: number };
  signedBy: string;
}

/**
 * The package's served file, current or previous, whose sha256 starts with `digest` (the href's
 * directory); null when it never served such a file.
 */
export async function findServedFile(sql: Queryable, pkg: PackageRow, digest: string): Promise<ServedFileRow | null> {
  if (pkg.sha256.startsWith(digest)) return pkg;
  const [row] = await sql<ServedFileRow[]>`
    select sha256, size, served_since from package_previous_files
    where package_id = ${pkg.id} and starts_with(sha256, ${digest})
    order by replaced_at desc
    limit 1`;
  return row ?? null;
}

/**
 * In the caller's transaction: if the package still serves `expectedSha256`, makes `file` its served
 * file and records the replaced one as a previous file; returns the updated row, or null (and changes
 * nothing) when the package serves something else by now.
 */
export async function replaceServedFile(
  tx: Queryable,
  packageId: number,
  expectedSha256: string,
  file: ReplacementFile,
): Promise<PackageRow | null> {
  const [current] = await tx<PackageRow[]>`select * from packages where id = ${packageId} for update`;
  if (!current || current.sha256 !== expectedSha256) return null;
  if (current.sha256 !== file.sha256) {
    await tx`
      insert into package_previous_files (package_id, sha256, size, signed_by, served_since)
      values (${packageId}, ${current.sha256}, ${current.size}, ${current.signed_by}, ${current.served_since})
      on conflict on constraint package_previous_files_pkey do update set replaced_at = now()`;
  }
  // A file served again (a rotation back to a key) is current, not previous.
  await tx`delete from package_previous_files where package_id = ${packageId} and sha256 = ${file.sha256}`;
  // Last-Modified is in whole seconds: a file replaced within the second it began to be served must
  // still get a later one, or If-Modified-Since would answer 304 for the new bytes.
  const [row] = await tx<PackageRow[]>`
    update packages
       set sha256 = ${file.sha256}, size = ${file.size}, header_start = ${file.headerRange.start},
           header_end = ${file.headerRange.end}, signed_by = ${file.signedBy},
           served_since = case when sha256 = ${file.sha256} then served_since
                               else greatest(date_trunc('second', now()), date_trunc('second', served_since) + interval '1 second') end
     where id = ${packageId}
    returning *`;
  return row!;
}
