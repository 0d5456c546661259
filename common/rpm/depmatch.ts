// Dependency flags and range matching: the RPMSENSE_* bits (rpm include/rpm/rpmds.h), the
// comparison names createrepo_c writes into primary.xml (src/misc.c cr_flag_to_str), its pre="1"
// rule (src/parsehdr.c), and rpm's overlap test for a provide against a require
// (lib/rpmds.c rpmdsCompareIndex + rpmio/rpmver.c rpmverOverlap).
import { parseEvr, rpmvercmp } from './vercmp.ts';

/** rpm's rpmsenseFlags bits (rpm 4.18 rpmds.h; PREUNTRANS/POSTUNTRANS are rpm 4.20). */
export const RPMSENSE = {
  ANY: 0,
  LESS: 1 << 1,
  GREATER: 1 << 2,
  EQUAL: 1 << 3,
  POSTTRANS: 1 << 5,
  PREREQ: 1 << 6,
  PRETRANS: 1 << 7,
  INTERP: 1 << 8,
  SCRIPT_PRE: 1 << 9,
  SCRIPT_POST: 1 << 10,
  SCRIPT_PREUN: 1 << 11,
  SCRIPT_POSTUN: 1 << 12,
  SCRIPT_VERIFY: 1 << 13,
  FIND_REQUIRES: 1 << 14,
  FIND_PROVIDES: 1 << 15,
  TRIGGERIN: 1 << 16,
  TRIGGERUN: 1 << 17,
  TRIGGERPOSTUN: 1 << 18,
  MISSINGOK: 1 << 19,
  PREUNTRANS: 1 << 20,
  POSTUNTRANS: 1 << 21,
  RPMLIB: 1 << 24,
  TRIGGERPREIN: 1 << 25,
  KEYRING: 1 << 26,
  CONFIG: 1 << 28,
  META: 1 << 29,
} as const;

/** RPMSENSE_SENSEMASK: the comparison bits (LESS | GREATER | EQUAL, plus the old SERIAL bit 0). */
export const RPMSENSE_SENSEMASK = 15;

/** createrepo_c's names for the comparison in `<rpm:entry flags="...">`. */
export type DepOperator = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE';

const operatorSense: Record<DepOperator, number> = {
  LT: RPMSENSE.LESS,
  GT: RPMSENSE.GREATER,
  EQ: RPMSENSE.EQUAL,
  LE: RPMSENSE.LESS | RPMSENSE.EQUAL,
  GE: RPMSENSE.GREATER | RPMSENSE.EQUAL,
};

/**
 * The primary.xml `flags` attribute for raw RPMSENSE flags, as createrepo_c's cr_flag_to_str:
 * only the low four bits count, and any other combination (none, or `<>` = LESS|GREATER) has no name.
 */
export function senseToOperator(flags: number): DepOperator | null {
  switch (flags & 0xf) {
    case 2:
      return 'LT';
    case 4:
      return 'GT';
    case 8:
      return 'EQ';
    case 10:
      return 'LE';
    case 12:
      return 'GE';
    default:
      return null;
  }
}

/** The RPMSENSE comparison bits for a primary.xml `flags` name (null or undefined: unversioned, 0). */
export function operatorToSense(operator: DepOperator | null | undefined): number {
  return operator ? operatorSense[operator] : 0;
}

const symbolSense: Record<string, number> = {
  '': 0,
  '<': RPMSENSE.LESS,
  '<=': RPMSENSE.LESS | RPMSENSE.EQUAL,
  '=<': RPMSENSE.LESS | RPMSENSE.EQUAL,
  '=': RPMSENSE.EQUAL,
  '==': RPMSENSE.EQUAL,
  '>=': RPMSENSE.GREATER | RPMSENSE.EQUAL,
  '=>': RPMSENSE.GREATER | RPMSENSE.EQUAL,
  '>': RPMSENSE.GREATER,
  '<>': RPMSENSE.LESS | RPMSENSE.GREATER,
};

/**
 * The comparison bits for a spec-file operator (rpm's rpmParseDSFlags table, plus `<>` for
 * LESS|GREATER, which rpm can store and match but its spec parser does not accept). null if unknown.
 */
export function symbolToSense(symbol: string): number | null {
  return symbolSense[symbol] ?? null;
}

/** The operator as `rpm -q --requires` prints it ("", "<", "<=", "=", ">=", ">", "<>"). */
export function senseToSymbol(flags: number): string {
  const less = flags & RPMSENSE.LESS ? '<' : '';
  const greater = flags & RPMSENSE.GREATER ? '>' : '';
  const equal = flags & RPMSENSE.EQUAL ? '=' : '';
  return `${less}${greater}${equal}`;
}

/**
 * createrepo_c's rule for `<rpm:entry ... pre="1">` on a require (src/parsehdr.c, "Calculate pre
 * value"): PREREQ, SCRIPT_PRE or SCRIPT_POST set. Requires(preun)/(postun)/(pretrans)/(posttrans)
 * do not count.
 */
export function isPreRequire(flags: number): boolean {
  return (flags & (RPMSENSE.PREREQ | RPMSENSE.SCRIPT_PRE | RPMSENSE.SCRIPT_POST)) !== 0;
}

/** createrepo_c leaves requires named `rpmlib(...)` out of primary.xml; rpmbuild also sets RPMLIB on them. */
export function isRpmlibDependency(dep: { name: string; flags: number }): boolean {
  return dep.name.startsWith('rpmlib(') || (dep.flags & RPMSENSE.RPMLIB) !== 0;
}

/** One side of a match: a name, raw RPMSENSE flags and the EVR string ("" when unversioned). */
export interface DepRange {
  name: string;
  flags: number;
  evr: string;
}

/**
 * Does `provide` satisfy `require`? rpm's rpmdsCompare: different names never overlap; an
 * unversioned side (no comparison bits, or an empty EVR) always overlaps; otherwise the two ranges
 * are compared. The test is symmetric, so the argument order only documents intent.
 */
export function rangesOverlap(provide: DepRange, require: DepRange): boolean {
  if (provide.name !== require.name) return false;
  if (!has(provide.flags, RPMSENSE_SENSEMASK) || !has(require.flags, RPMSENSE_SENSEMASK)) return true;
  if (provide.evr === '' || require.evr === '') return true;
  return evrRangesOverlap(provide.evr, provide.flags, require.evr, require.flags);
}

/** rpmverOverlap: whether `[op1 evr1]` and `[op2 evr2]` have a version in common. */
function evrRangesOverlap(evr1: string, f1: number, evr2: string, f2: number): boolean {
  const v1 = parseEvr(evr1);
  const v2 = parseEvr(evr2);

  // An absent epoch compares equal to any epoch that is not positive (rpm compares epochs only when
  // both are given, otherwise a positive one wins).
  let sense = 0;
  if (v1.epoch !== null && v2.epoch !== null) sense = Math.sign(v1.epoch - v2.epoch);
  else if (v1.epoch !== null && v1.epoch > 0) sense = 1;
  else if (v2.epoch !== null && v2.epoch > 0) sense = -1;

  if (sense === 0) {
    sense = rpmvercmp(v1.version, v2.version);
    if (sense === 0) {
      const r1 = v1.release ?? '';
      const r2 = v2.release ?? '';
      if (r1 !== '' && r2 !== '') {
        sense = rpmvercmp(r1, r2);
      } else if ((r1 !== '' && has(f2, RPMSENSE.EQUAL)) || (r2 !== '' && has(f1, RPMSENSE.EQUAL))) {
        // A missing release means "any release": it matches when the side without one includes EQUAL.
        return true;
      }
    }
  }

  if (sense < 0) return has(f1, RPMSENSE.GREATER) || has(f2, RPMSENSE.LESS);
  if (sense > 0) return has(f1, RPMSENSE.LESS) || has(f2, RPMSENSE.GREATER);
  return (
    (has(f1, RPMSENSE.EQUAL) && has(f2, RPMSENSE.EQUAL)) ||
    (has(f1, RPMSENSE.LESS) && has(f2, RPMSENSE.LESS)) ||
    (has(f1, RPMSENSE.GREATER) && has(f2, RPMSENSE.GREATER))
  );
}

function has(flags: number, bit: number): boolean {
  return (flags & bit) !== 0;
}
