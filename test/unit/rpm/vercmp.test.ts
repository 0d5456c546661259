// rpmvercmp and EVR ordering against the corpus fact tables (rpm's rpmvercmp.at, its commented-out
// oddities, rpm-version's pairs, labelCompare rows), one test per row, plus parseEvr's edge cases.
import { describe, expect, it } from 'vitest';
import { compareEvr, formatEvr, parseEvr, rpmvercmp } from '../../../common/rpm/vercmp.ts';
import { corpusAvailable, readCorpusTsv } from '../../support/corpus.ts';

function corpusRows(name: string): Record<string, string>[] {
  if (corpusAvailable) return readCorpusTsv(name);
  it.skip(`every row of ${name} (SKIPPED: ../shared/corpus not found)`, () => {});
  return [];
}

describe('rpmvercmp', () => {
  for (const file of ['rpmvercmp.tsv', 'vercmp-extra-rpm-version.tsv']) {
    describe(file, () => {
      for (const row of corpusRows(file)) {
        it(`rpmvercmp(${row.a}, ${row.b}) = ${row.expected}`, () => {
          expect(rpmvercmp(row.a ?? '', row.b ?? '')).toBe(Number(row.expected));
        });
      }
    });
  }

  describe('rpmvercmp-oddities.tsv (documented behaviour, non-ASCII as separators)', () => {
    for (const row of corpusRows('rpmvercmp-oddities.tsv')) {
      it(`rpmvercmp(${row.a}, ${row.b}) = ${row.expected_documented}`, () => {
        expect(rpmvercmp(row.a ?? '', row.b ?? '')).toBe(Number(row.expected_documented));
      });
    }
  });

  it('is antisymmetric on tilde and caret mixes', () => {
    const versions = ['1.0', '1.0~rc1', '1.0^git1', '1.0~rc1^git1', '1.0.1', '1.0a', '1.0~', '1.0^', '01.0'];
    for (const a of versions) {
      for (const b of versions) expect(rpmvercmp(a, b)).toBe(-rpmvercmp(b, a) || 0);
    }
  });

  it('compares long digit runs without overflowing', () => {
    expect(rpmvercmp('1.123456789012345678901234567890', '1.123456789012345678901234567889')).toBe(1);
    expect(rpmvercmp('00000000000000000000000001', '1')).toBe(0);
  });
});

describe('compareEvr', () => {
  describe('evrcmp.tsv', () => {
    for (const row of corpusRows('evrcmp.tsv')) {
      it(`compareEvr(${row.a}, ${row.b}) = ${row.expected} (${row.source})`, () => {
        expect(compareEvr(row.a ?? '', row.b ?? '')).toBe(Number(row.expected));
      });
    }
  });

  it('treats an absent epoch as 0', () => {
    expect(compareEvr('1.0-1', '0:1.0-1')).toBe(0);
    expect(compareEvr({ epoch: null, version: '1.0', release: '1' }, '1:0.1-1')).toBe(-1);
  });

  it('sorts an absent release before a present one, as rpmverCmp does', () => {
    expect(compareEvr('1.0', '1.0-1')).toBe(-1);
    expect(compareEvr('1.0-1', '1.0')).toBe(1);
    expect(compareEvr('1.0', '1.0')).toBe(0);
  });
});

describe('parseEvr', () => {
  it.each([
    ['1.0', { epoch: null, version: '1.0', release: null }],
    ['1.0-1', { epoch: null, version: '1.0', release: '1' }],
    ['0:1.0-1', { epoch: 0, version: '1.0', release: '1' }],
    ['3:1.0-1.fc40', { epoch: 3, version: '1.0', release: '1.fc40' }],
    [':1.0', { epoch: 0, version: '1.0', release: null }],
    ['a:1.0', { epoch: null, version: 'a:1.0', release: null }],
    ['1.0-2-3', { epoch: null, version: '1.0-2', release: '3' }],
    ['1.0-', { epoch: null, version: '1.0', release: '' }],
    ['2.0^git1-1', { epoch: null, version: '2.0^git1', release: '1' }],
    ['12-3', { epoch: null, version: '12', release: '3' }],
  ])('splits %s like rpm parseEVR', (input, expected) => {
    expect(parseEvr(input)).toEqual(expected);
  });

  it('round-trips through formatEvr', () => {
    for (const s of ['1.0', '1.0-1', '0:1.0-1', '3:2.0~rc1-0.1']) expect(formatEvr(parseEvr(s))).toBe(s);
  });
});
