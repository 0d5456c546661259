// Queries on package_tuples (sql/0003_hosts.sql): the (name, epoch, version, release, arch) tuples hosts
// report, interned once and named by id in inventories and history. SQL only, no policy.
import type { Queryable } from './queryable.ts';

export interface TupleRow {
  id: number;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

/** Interns tuples (absent epoch as 0) and answers their ids, in input order. Two statements, so that rows
 *  another transaction committed while we waited on its conflict are visible to the second. */
export async function internTuples(
  sql: Queryable,
  tuples: { name: string; epoch: number; version: string; release: string; arch: string }[],
): Promise<number[]> {
  if (tuples.length === 0) return [];
  const columns = [
    tuples.map((t) => t.name),
    tuples.map((t) => t.epoch),
    tuples.map((t) => t.version),
    tuples.map((t) => t.release),
    tuples.map((t) => t.arch),
  ] as const;
  // Inserted in input order (callers sort), so concurrent interning of overlapping lists cannot deadlock.
  await sql`
    insert into package_tuples (name, epoch, version, release, arch)
    select name, epoch, version, release, arch
    from unnest(${columns[0]}::text[], ${columns[1]}::int4[], ${columns[2]}::text[], ${columns[3]}::text[], ${columns[4]}::text[])
      with ordinality as input(name, epoch, version, release, arch, ord)
    order by ord
    on conflict on constraint package_tuples_nevra_key do nothing`;
  const rows = await sql<{ id: number; ord: number }[]>`
    select t.id, input.ord::int4 as ord
    from unnest(${columns[0]}::text[], ${columns[1]}::int4[], ${columns[2]}::text[], ${columns[3]}::text[], ${columns[4]}::text[])
      with ordinality as input(name, epoch, version, release, arch, ord)
    join package_tuples t
      on t.name = input.name and t.epoch = input.epoch and t.version = input.version
     and t.release = input.release and t.arch = input.arch`;
  const ids = new Array<number>(tuples.length);
  for (const row of rows) ids[row.ord - 1] = row.id;
  return ids;
}

export async function findTuplesById(sql: Queryable, ids: number[]): Promise<TupleRow[]> {
  if (ids.length === 0) return [];
  return sql<TupleRow[]>`select id, name, epoch, version, release, arch from package_tuples where id = any(${ids}::int4[])`;
}

export async function findTuplesByName(sql: Queryable, name: string): Promise<TupleRow[]> {
  return sql<TupleRow[]>`select id, name, epoch, version, release, arch from package_tuples where name = ${name}`;
}
