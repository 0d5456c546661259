// A person's `set delete NAME/VERSION` and `package delete NEVRA`: looked up by their public names,
// then deleted through services/deletion.ts (the cleanup's path: one transaction, audited, files after
// the commit). What the rules forbid is a 409 that says why: a set that was ever released, a package a
// set holds (naming the sets).
import { RpmgateError } from '../../common/errors.ts';
import type { Level } from '../../common/roles.ts';
import type { AppContext } from '../context.ts';
import { findPackageDetail } from '../db/packages.ts';
import { findSet } from '../db/sets.ts';
import { deletePackages, deleteSet, removeUnnamedBlobs } from './deletion.ts';
import type { Principal } from './tokens.ts';

export interface DeletedSetView {
  deleted: string;
  level: Level;
}

export async function deleteSetByName(ctx: AppContext, name: string, version: string, by: Principal, comment?: string): Promise<DeletedSetView> {
  const set = await findSet(ctx.sql, name, version);
  if (!set) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
  const deleted = await deleteSet(ctx.sql, set.id, { actor: by.name, detail: comment ? { comment } : {} });
  if (!deleted) throw new RpmgateError('not_found', `no package set ${name}/${version}`);
  await ctx.repositories.changed();
  return { deleted: `${name}/${version}`, level: set.level };
}

export interface DeletedPackageView {
  deleted: string;
  /** Bytes of stored files given back (0 when another row still names them). */
  freedBytes: number;
}

export async function deletePackageByNevra(ctx: AppContext, nevra: string, by: Principal, comment?: string): Promise<DeletedPackageView> {
  const row = await findPackageDetail(ctx.sql, nevra);
  if (!row) throw new RpmgateError('not_found', `no package ${nevra}`);
  // A source package is also held by the sets that serve it beside their binaries (includes_sources).
  if (row.sets.length > 0) throw heldBySets(nevra, row.sets);
  const [deleted] = await deletePackages(ctx.sql, [{ packageId: Number(row.id), detail: comment ? { comment } : {} }], by.name);
  if (!deleted) {
    // deletePackages re-checks under the row lock: a set holds it (now).
    throw heldBySets(nevra, (await findPackageDetail(ctx.sql, nevra))?.sets ?? []);
  }
  await ctx.repositories.changed();
  const freedBytes = await removeUnnamedBlobs(ctx.sql, ctx.store, deleted.files);
  return { deleted: deleted.nevra, freedBytes };
}

function heldBySets(nevra: string, sets: string[]): RpmgateError {
  const which = sets.length === 0 ? 'a set created meanwhile' : `${sets.length === 1 ? 'set' : 'sets'} ${sets.join(', ')}`;
  return new RpmgateError('conflict', `${nevra} is held by ${which}: a package a set holds is never deleted (delete the sets first, if the rules allow)`, { sets });
}
