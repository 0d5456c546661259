// Package tuples as the fleet stores them: a report's packages normalised (deduplicated, sorted, digested)
// and interned to ids once per server, with a bounded in-memory map in front of package_tuples.
// Tuple ids never change and tuples are never deleted, so the cache needs no invalidation.
import { createHash } from 'node:crypto';
import type { PackageTuple } from '../../common/conformance.ts';
import { findTuplesById, internTuples, type TupleRow } from '../db/package-tuples.ts';
import type { Queryable } from '../db/queryable.ts';

export interface NormalizedInventory {
  /** Distinct tuples in key order. */
  tuples: PackageTuple[];
  /** Their keys (tupleKey), in the same order. */
  keys: string[];
  /** sha256 over the keys in that order: equal for equal inventories, whatever the report's order. */
  digest: Buffer;
}

/** Entries kept before the cache starts over; a fleet rarely holds more distinct tuples than this. */
const maxCachedTuples = 400_000;

/** name, epoch (absent as 0), version, release, arch joined by NUL: a tuple's identity. */
export function tupleKey(t: PackageTuple): string {
  return `${t.name}\0${t.epoch ?? 0}\0${t.version}\0${t.release}\0${t.arch}`;
}

export function normalizeInventory(packages: readonly PackageTuple[]): NormalizedInventory {
  const byKey = new Map<string, PackageTuple>();
  for (const pkg of packages) {
    const key = tupleKey(pkg);
    if (!byKey.has(key)) byKey.set(key, pkg);
  }
  // The default sort is code-unit order, the same in every process: also the insertion order that keeps
  // interning deadlock-free. Sorting bare strings is several times faster than objects by a comparator.
  const keys = [...byKey.keys()].sort();
  return { tuples: keys.map((key) => byKey.get(key)!), keys, digest: createHash('sha256').update(keys.join('\n')).digest() };
}

export class TupleInterner {
  private readonly idsByKey = new Map<string, number>();
  private readonly tuplesById = new Map<number, PackageTuple>();

  constructor(private readonly sql: Queryable) {}

  /** The id of every tuple of a normalized inventory, in order, interning the ones never seen. */
  async intern({ tuples, keys }: Pick<NormalizedInventory, 'tuples' | 'keys'>): Promise<number[]> {
    const ids = new Array<number>(tuples.length);
    const unknown: number[] = [];
    for (let i = 0; i < tuples.length; i++) {
      const id = this.idsByKey.get(keys[i]!);
      if (id === undefined) unknown.push(i);
      else ids[i] = id;
    }
    if (unknown.length > 0) {
      const fresh = await internTuples(
        this.sql,
        unknown.map((i) => {
          const t = tuples[i]!;
          return { name: t.name, epoch: t.epoch ?? 0, version: t.version, release: t.release, arch: t.arch };
        }),
      );
      this.makeRoom(fresh.length);
      unknown.forEach((position, k) => {
        const id = fresh[k]!;
        const t = tuples[position]!;
        ids[position] = id;
        this.idsByKey.set(keys[position]!, id);
        this.tuplesById.set(id, { name: t.name, epoch: t.epoch ?? 0, version: t.version, release: t.release, arch: t.arch });
      });
    }
    return ids;
  }

  /** The tuples behind ids (from the cache, else the database). */
  async lookup(ids: readonly number[]): Promise<Map<number, PackageTuple>> {
    const found = new Map<number, PackageTuple>();
    const missing: number[] = [];
    for (const id of ids) {
      const tuple = this.tuplesById.get(id);
      if (tuple) found.set(id, tuple);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows: TupleRow[] = await findTuplesById(this.sql, missing);
      this.makeRoom(rows.length);
      for (const row of rows) {
        const tuple = { name: row.name, epoch: row.epoch, version: row.version, release: row.release, arch: row.arch };
        found.set(row.id, tuple);
        this.tuplesById.set(row.id, tuple);
      }
    }
    return found;
  }

  private makeRoom(incoming: number): void {
    if (this.idsByKey.size + incoming > maxCachedTuples || this.tuplesById.size + incoming > maxCachedTuples) {
      this.idsByKey.clear();
      this.tuplesById.clear();
    }
  }
}

const interners = new WeakMap<object, TupleInterner>();

/** One interner per database pool, shared by every request of a server. */
export function tupleInterner(sql: Queryable): TupleInterner {
  let interner = interners.get(sql);
  if (!interner) {
    interner = new TupleInterner(sql);
    interners.set(sql, interner);
  }
  return interner;
}
