// Dependency matching against rpm's rpmdepmatch.at table (one test per row), and the flag helpers
// against createrepo_c's rules.
import { describe, expect, it } from 'vitest';
import {
  RPMSENSE,
  isPreRequire,
  isRpmlibDependency,
  operatorToSense,
  rangesOverlap,
  senseToOperator,
  senseToSymbol,
  symbolToSense,
} from '../../../common/rpm/depmatch.ts';
import { corpusAvailable, readCorpusTsv } from '../../support/corpus.ts';

function corpusRows(name: string): Record<string, string>[] {
  if (corpusAvailable) return readCorpusTsv(name);
  it.skip(`every row of ${name} (SKIPPED: ../shared/corpus not found)`, () => {});
  return [];
}

function sense(symbol: string | undefined): number {
  const flags = symbolToSense(symbol ?? '');
  if (flags === null) throw new Error(`unknown operator ${symbol}`);
  return flags;
}

describe('rangesOverlap', () => {
  describe('rpmdepmatch.tsv', () => {
    for (const row of corpusRows('rpmdepmatch.tsv')) {
      const provide = `${row.provide_name} ${row.provide_op} ${row.provide_evr}`.trim();
      const require = `${row.require_name} ${row.require_op} ${row.require_evr}`.trim();
      it(`provide "${provide}" ${row.match === '1' ? 'satisfies' : 'does not satisfy'} require "${require}"`, () => {
        const result = rangesOverlap(
          { name: row.provide_name ?? '', flags: sense(row.provide_op), evr: row.provide_evr ?? '' },
          { name: row.require_name ?? '', flags: sense(row.require_op), evr: row.require_evr ?? '' },
        );
        expect(result).toBe(row.match === '1');
      });
    }
  });

  it('ignores non-comparison bits such as PREREQ and SCRIPT_POST', () => {
    const require = { name: 'a', flags: RPMSENSE.GREATER | RPMSENSE.EQUAL | RPMSENSE.SCRIPT_POST, evr: '1.0' };
    expect(rangesOverlap({ name: 'a', flags: RPMSENSE.EQUAL, evr: '1.1-1' }, require)).toBe(true);
    expect(rangesOverlap({ name: 'a', flags: RPMSENSE.EQUAL, evr: '0.9-1' }, require)).toBe(false);
  });

  it('lets a positive epoch on one side win over an absent one', () => {
    const require = { name: 'a', flags: RPMSENSE.LESS, evr: '2.0' };
    expect(rangesOverlap({ name: 'a', flags: RPMSENSE.EQUAL, evr: '3:1.0-1' }, require)).toBe(false);
    expect(rangesOverlap({ name: 'a', flags: RPMSENSE.EQUAL, evr: '1.0-1' }, require)).toBe(true);
  });

  it('orders ~ and ^ versions inside ranges', () => {
    const require = { name: 'rg-hello', flags: RPMSENSE.GREATER | RPMSENSE.EQUAL, evr: '2.0' };
    expect(rangesOverlap({ name: 'rg-hello', flags: RPMSENSE.EQUAL, evr: '2.0^git1-1' }, require)).toBe(true);
    expect(rangesOverlap({ name: 'rg-hello', flags: RPMSENSE.EQUAL, evr: '2.0~rc1-1' }, require)).toBe(false);
  });
});

describe('flag helpers', () => {
  it.each([
    [0, null],
    [RPMSENSE.LESS, 'LT'],
    [RPMSENSE.GREATER, 'GT'],
    [RPMSENSE.EQUAL, 'EQ'],
    [RPMSENSE.LESS | RPMSENSE.EQUAL, 'LE'],
    [RPMSENSE.GREATER | RPMSENSE.EQUAL, 'GE'],
    [RPMSENSE.LESS | RPMSENSE.GREATER, null],
    [RPMSENSE.GREATER | RPMSENSE.EQUAL | RPMSENSE.SCRIPT_PRE | RPMSENSE.RPMLIB, 'GE'],
  ] as const)('senseToOperator(%i) is %s, like createrepo_c cr_flag_to_str', (flags, operator) => {
    expect(senseToOperator(flags)).toBe(operator);
    if (operator) expect(operatorToSense(operator)).toBe(flags & 0xf);
  });

  it('maps spec operators both ways', () => {
    for (const symbol of ['', '<', '<=', '=', '>=', '>', '<>']) expect(senseToSymbol(sense(symbol))).toBe(symbol);
    expect(symbolToSense('=>')).toBe(RPMSENSE.GREATER | RPMSENSE.EQUAL);
    expect(symbolToSense('~=')).toBeNull();
  });

  it.each([
    ['Requires', 0, false],
    ['PreReq', RPMSENSE.PREREQ, true],
    ['Requires(pre)', RPMSENSE.SCRIPT_PRE, true],
    ['Requires(post)', RPMSENSE.SCRIPT_POST, true],
    ['Requires(pre,post)', RPMSENSE.SCRIPT_PRE | RPMSENSE.SCRIPT_POST, true],
    ['Requires(preun)', RPMSENSE.SCRIPT_PREUN, false],
    ['Requires(postun)', RPMSENSE.SCRIPT_POSTUN, false],
    ['Requires(pretrans)', RPMSENSE.PRETRANS, false],
    ['Requires(posttrans)', RPMSENSE.POSTTRANS, false],
    ['Requires(interp)', RPMSENSE.INTERP, false],
  ] as const)('%s gives pre=%s as in createrepo_c', (_label, flags, pre) => {
    expect(isPreRequire(flags | RPMSENSE.GREATER | RPMSENSE.EQUAL)).toBe(pre);
  });

  it('recognises rpmlib() requires', () => {
    expect(isRpmlibDependency({ name: 'rpmlib(CompressedFileNames)', flags: RPMSENSE.LESS | RPMSENSE.EQUAL | RPMSENSE.RPMLIB })).toBe(true);
    expect(isRpmlibDependency({ name: 'rg-hello', flags: RPMSENSE.EQUAL })).toBe(false);
  });
});
