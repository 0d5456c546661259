// The difference between two package sets' member lists, compared by name and arch: a version change
// is one upgrade or downgrade, not a removal plus an addition. Used by `rpmgate set diff` and the
// console's set page.
import { compareEvr } from './rpm/vercmp.ts';

export interface DiffMember {
  nevra: string;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}

export interface SetChange {
  name: string;
  arch: string;
  from: string;
  to: string;
  direction: 'upgrade' | 'downgrade';
}

export interface SetDiff {
  changed: SetChange[];
  added: string[];
  removed: string[];
}

export function evrOf(member: Pick<DiffMember, 'epoch' | 'version' | 'release'>): string {
  return `${member.epoch ? `${member.epoch}:` : ''}${member.version}-${member.release}`;
}

/**
 * `from` → `to`. Members present in both may be left out of both lists (the console passes only the
 * members each set has and the other lacks): they make no line either way.
 */
export function diffSets(from: readonly DiffMember[], to: readonly DiffMember[]): SetDiff {
  const key = (m: DiffMember) => `${m.name}.${m.arch}`;
  const before = new Map(from.map((m) => [key(m), m]));
  const after = new Map(to.map((m) => [key(m), m]));
  const changed: SetChange[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, m] of after) {
    const old = before.get(k);
    if (!old) added.push(m.nevra);
    else if (old.nevra !== m.nevra) {
      changed.push({ name: m.name, arch: m.arch, from: evrOf(old), to: evrOf(m), direction: compareEvr(evrOf(m), evrOf(old)) >= 0 ? 'upgrade' : 'downgrade' });
    }
  }
  for (const [k, m] of before) if (!after.has(k)) removed.push(m.nevra);
  changed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  return { changed, added: added.sort(), removed: removed.sort() };
}
