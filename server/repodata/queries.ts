// What a repository holds, in SQL: a level repository serves the binary (or source) packages at or
// above its level; a set repository serves the set's binary (or source) members.
import type { Sql } from 'postgres';
import type { Queryable } from '../db/queryable.ts';
import type { PackageRow } from '../db/packages.ts';

export type RepoSelector =
  | { kind: 'level'; rank: number; source: boolean }
  | { kind: 'set'; setId: number; source: boolean };

/** A repository's packages in document order, each with the digest of its fragments (sql/0005). */
export interface RepoMembers {
  ids: number[];
  /** The members' fragment digests (package_fragment_digests), 32 bytes each, packed in the same order. */
  digests: Buffer;
}

/** One package's fragments as the UTF-8 bytes PostgreSQL sends (no decoding into strings and back). */
export interface FragmentBytes {
  /** Hex sha256 of the three fragments, read in the same snapshot as them. */
  digest: string;
  primary: Buffer;
  filelists: Buffer;
  other: Buffer;
}

export const digestLength = 32;

/** `from ... where ...` selecting the repository's packages as `p`, with `joins` after `packages p`. */
function membership(sql: Queryable, selector: RepoSelector, joins = sql``) {
  return selector.kind === 'level'
    ? sql`from packages p ${joins} where p.level_rank >= ${selector.rank} and p.is_source = ${selector.source}`
    : sql`from package_set_members m join packages p on p.id = m.package_id ${joins}
          where m.set_id = ${selector.setId} and p.is_source = ${selector.source}`;
}

/**
 * The members in document order (name in the C collation, so the same everywhere, then id) with their
 * fragment digests, never the fragments: a build fetches the text of just the packages its cache lacks.
 * One aggregated value rather than a row per package: 100,000 rows cost more to decode than to find.
 */
export async function listRepoMembers(sql: Sql, selector: RepoSelector): Promise<RepoMembers> {
  const [row] = await sql.begin(async (tx) => {
    // Sorting a large level (100,000 names) must not spill to disk at the default 4 MB.
    await tx`set local work_mem = '64MB'`;
    return tx<{ members: Buffer | null }[]>`
      select string_agg(int8send(p.id) || d.fragments_sha256, ''::bytea order by p.name collate "C", p.id) as members
      ${membership(tx, selector, tx`join package_fragment_digests d on d.package_id = p.id`)}`;
  });
  const packed = row?.members ?? Buffer.alloc(0);
  const stride = 8 + digestLength;
  const count = packed.length / stride;
  const ids = new Array<number>(count);
  const digests = Buffer.allocUnsafe(count * digestLength);
  for (let i = 0; i < count; i++) {
    ids[i] = Number(packed.readBigInt64BE(i * stride));
    packed.copy(digests, i * digestLength, i * stride + 8, (i + 1) * stride);
  }
  return { ids, digests };
}

/**
 * The fragments of these packages, in the order given. Raw rows: values arrive as Buffers, which is
 * what the compressor and the hashes want (decoding ≈ 110 MB of text into strings and encoding it
 * back took longer than reading it). A package gone meanwhile is simply missing from the result.
 */
export async function fetchFragments(sql: Queryable, ids: readonly number[]): Promise<FragmentBytes[]> {
  const rows = (await sql`
    select encode(d.fragments_sha256, 'hex'), r.primary_xml, r.filelists_xml, r.other_xml
    from unnest(${ids as number[]}::bigint[]) with ordinality u(id, n)
    join package_repodata r on r.package_id = u.id
    join package_fragment_digests d on d.package_id = u.id
    order by u.n`.raw()) as unknown as Buffer[][];
  return rows.map(([digest, primary, filelists, other]) => ({
    digest: digest!.toString('latin1'),
    primary: primary!,
    filelists: filelists!,
    other: other!,
  }));
}

/** The package a repository serves under a file name, or null when that repository does not hold it. */
export async function findRepoPackage(sql: Queryable, selector: RepoSelector, filename: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`select p.* ${membership(sql, selector)} and p.filename = ${filename}`;
  return row ?? null;
}
