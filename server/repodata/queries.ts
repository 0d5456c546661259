// What a repository holds, in SQL: a level repository serves the binary (or source) packages at or
// above its level; a set repository serves the set's binary members, and as sources its source
// members and the stored SRPMs its binaries were built from (SOURCERPM), whenever they arrived; the
// agent's repository serves every stored binary package of one name (rpmgate-agent), whatever its level.
import type { Sql } from 'postgres';
import type { Queryable } from '../db/queryable.ts';
import type { PackageRow } from '../db/packages.ts';
import type { RepodataKind } from '../../common/repodata/document.ts';

export type RepoSelector =
  | { kind: 'level'; rank: number; source: boolean }
  | { kind: 'set'; setId: number; source: boolean }
  | { kind: 'name'; name: string; source: false };

/** A repository's packages in document order, each with the digest of its fragments (sql/0005 package_fragment_digests). */
export interface RepoMembers {
  ids: number[];
  /** Package names, for placing a package that joins later. */
  names: string[];
  /** The members' fragment digests (package_fragment_digests), 32 bytes each, packed in the same order. */
  digests: Buffer;
  /** The PostgreSQL snapshot the list is true in (pg_snapshot text), for listMemberChanges. */
  snapshot: string;
}

/** A package changed since a member list's snapshot, as it is now. */
export interface MemberChange {
  id: number;
  /** Whether the repository holds it now; if so, its name and digest. */
  member: boolean;
  name: string | null;
  digest: Buffer | null;
}

/** Packages' fragments, concatenated per document kind, as the UTF-8 bytes PostgreSQL sends. */
export interface FragmentRun {
  /** Hex sha256 of each package's three fragments, read in the same snapshot as them. */
  digests: string[];
  text: Record<RepodataKind, Buffer>;
  /** Each package's share of each text. */
  lengths: Record<RepodataKind, number[]>;
}

export const digestLength = 32;

/** `from ... where ...` selecting the repository's packages as `p`, with `joins` after `packages p`. */
function membership(sql: Queryable, selector: RepoSelector, joins = sql``) {
  if (selector.kind === 'level') return sql`from packages p ${joins} where p.level_rank >= ${selector.rank} and p.is_source = ${selector.source}`;
  if (selector.kind === 'name') return sql`from packages p ${joins} where p.name = ${selector.name} and not p.is_source`;
  if (!selector.source) {
    return sql`from package_set_members m join packages p on p.id = m.package_id ${joins} where m.set_id = ${selector.setId} and not p.is_source`;
  }
  return sql`from packages p ${joins} where p.is_source and ${holdsInSet(sql, selector.setId, true)}`;
}

/**
 * Whether set `setId` holds package `p` in its binary (or source) repository. Unless the set was made
 * with noSources (sql/0011), a source it does not name is still its source when one of its binaries
 * was built from it: an SRPM uploaded after the set was sealed follows its binaries there, as it does
 * into the levels, and the set holds the same sources whichever arrived first.
 */
function holdsInSet(sql: Queryable, setId: number, source: boolean) {
  const member = sql`exists (select 1 from package_set_members m where m.set_id = ${setId} and m.package_id = p.id)`;
  if (!source) return member;
  return sql`(${member} or p.filename in (
    select b.sourcerpm from package_sets s
    join package_set_members m on m.set_id = s.id join packages b on b.id = m.package_id
    where s.id = ${setId} and s.includes_sources and not b.is_source and b.sourcerpm is not null))`;
}

/**
 * The members in document order (name in the C collation, so the same everywhere, then id) with their
 * fragment digests, never the fragments: a build fetches the text of just the packages its cache lacks.
 * One aggregated value (id, digest, name length, name per member) rather than a row per package:
 * 100,000 rows cost more to decode than to find.
 */
export async function listRepoMembers(sql: Sql, selector: RepoSelector): Promise<RepoMembers> {
  const [row] = await sql.begin(async (tx) => {
    // Sorting a large level (100,000 names) must not spill to disk at the default 4 MB.
    await tx`set local work_mem = '64MB'`;
    return tx<{ snapshot: string; members: Buffer | null }[]>`
      select pg_current_snapshot()::text as snapshot,
             string_agg(int8send(p.id) || d.fragments_sha256 || int4send(octet_length(p.name)) || convert_to(p.name, 'UTF8'),
                        ''::bytea order by p.name collate "C", p.id) as members
      ${membership(tx, selector, tx`join package_fragment_digests d on d.package_id = p.id`)}`;
  });
  const packed = row!.members ?? Buffer.alloc(0);
  const ids: number[] = [];
  const names: string[] = [];
  // Copied out rather than viewed: 100,000 small Buffer views would be as many objects to collect.
  const digests = Buffer.allocUnsafe(Math.floor(packed.length / (12 + digestLength)) * digestLength);
  for (let offset = 0; offset < packed.length; ) {
    packed.copy(digests, ids.length * digestLength, offset + 8, offset + 8 + digestLength);
    ids.push(Number(packed.readBigInt64BE(offset)));
    const nameLength = packed.readInt32BE(offset + 8 + digestLength);
    offset += 12 + digestLength;
    names.push(packed.toString('utf8', offset, (offset += nameLength)));
  }
  return { ids, names, digests: digests.subarray(0, ids.length * digestLength), snapshot: row!.snapshot };
}

/**
 * The packages changed by transactions the snapshot did not see (sql/0006 repo_member_changes), each
 * as it is now for this repository, and the snapshot that is true in. Applying a change twice does
 * no harm: the caller replaces the package by its present state.
 */
export async function listMemberChanges(
  sql: Queryable,
  selector: RepoSelector,
  since: string,
): Promise<{ snapshot: string; changes: MemberChange[] }> {
  const holds =
    selector.kind === 'level'
      ? sql`p.level_rank >= ${selector.rank} and p.is_source = ${selector.source} and d.package_id is not null`
      : selector.kind === 'name'
        ? sql`p.name = ${selector.name} and not p.is_source and d.package_id is not null`
        : sql`p.is_source = ${selector.source} and d.package_id is not null and ${holdsInSet(sql, selector.setId, selector.source)}`;
  const rows = await sql<{ snapshot: string; id: number | null; member: boolean | null; name: string | null; digest: Buffer | null }[]>`
    with changed as (
      select distinct package_id as id from repo_member_changes
      where txid >= pg_snapshot_xmin(${since}::pg_snapshot) and not pg_visible_in_snapshot(txid, ${since}::pg_snapshot)
    )
    select pg_current_snapshot()::text as snapshot, c.id, coalesce(${holds}, false) as member, p.name, d.fragments_sha256 as digest
    from (select) as one
    left join changed c on true
    left join packages p on p.id = c.id
    left join package_fragment_digests d on d.package_id = c.id`;
  const changes = rows
    .filter((row) => row.id !== null)
    .map((row) => ({ id: row.id!, member: row.member === true, name: row.member ? row.name : null, digest: row.member ? row.digest : null }));
  return { snapshot: rows[0]!.snapshot, changes };
}

/** Forgets changes older than a day; member lists older than an hour are read again whole. */
export async function pruneMemberChanges(sql: Queryable): Promise<void> {
  await sql`delete from repo_member_changes where changed_at < now() - interval '1 day'`;
}

/**
 * The fragments of these packages, in the order given, concatenated per kind. Raw rows: values arrive
 * as Buffers, which is what the compressor and the hashes want; decoding ≈ 110 MB of text into strings
 * and encoding it back cost more than reading it. (Concatenating in PostgreSQL with string_agg took
 * less client CPU but more server CPU, and was slower overall: 2.6–3.0 s against 2.3–2.6 s for the
 * chunks of 20,000 packages.) A package gone meanwhile is simply missing from the result.
 */
export async function fetchFragments(sql: Queryable, ids: readonly number[]): Promise<FragmentRun> {
  const rows = (await sql`
    select encode(d.fragments_sha256, 'hex'), r.primary_xml, r.filelists_xml, r.other_xml
    from unnest(${ids as number[]}::bigint[]) with ordinality u(id, n)
    join package_repodata r on r.package_id = u.id
    join package_fragment_digests d on d.package_id = u.id
    order by u.n`.raw()) as unknown as Buffer[][];
  const column = (index: number) => rows.map((row) => row[index]!);
  const [primary, filelists, other] = [column(1), column(2), column(3)];
  return {
    digests: rows.map((row) => row[0]!.toString('latin1')),
    text: { primary: Buffer.concat(primary), filelists: Buffer.concat(filelists), other: Buffer.concat(other) },
    lengths: { primary: primary.map((part) => part.length), filelists: filelists.map((part) => part.length), other: other.map((part) => part.length) },
  };
}

/** The package a repository serves under a file name, or null when that repository does not hold it. */
export async function findRepoPackage(sql: Queryable, selector: RepoSelector, filename: string): Promise<PackageRow | null> {
  const [row] = await sql<PackageRow[]>`select p.* ${membership(sql, selector)} and p.filename = ${filename}`;
  return row ?? null;
}
