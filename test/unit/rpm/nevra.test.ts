// NEVRA parsing against rpm-version's table (one test per row), and formatting choices.
import { describe, expect, it } from 'vitest';
import {
  formatNevr,
  formatNevra,
  formatNvra,
  formatRpmFileName,
  parseNevr,
  parseNevra,
  parseRpmFileName,
} from '../../../common/rpm/nevra.ts';
import { isRpmgateError } from '../../../common/errors.ts';
import { corpusAvailable, readCorpusTsv } from '../../support/corpus.ts';

function corpusRows(name: string): Record<string, string>[] {
  if (corpusAvailable) return readCorpusTsv(name);
  it.skip(`every row of ${name} (SKIPPED: ../shared/corpus not found)`, () => {});
  return [];
}

describe('parseNevra', () => {
  describe('nevra-parse.tsv', () => {
    for (const row of corpusRows('nevra-parse.tsv')) {
      it(`splits ${row.input}`, () => {
        expect(parseNevra(row.input ?? '')).toEqual({
          name: row.name,
          epoch: row.epoch === '' ? null : Number(row.epoch),
          version: row.version,
          release: row.release,
          arch: row.arch,
        });
      });
    }
  });

  it('takes a dot as the arch separator only after the last dash', () => {
    expect(parseNevra('python3.9-3.9.11-2')).toEqual({
      name: 'python3.9',
      epoch: null,
      version: '3.9.11',
      release: '2',
      arch: '',
    });
  });

  it('refuses a non-numeric epoch with bad_request', () => {
    let error: unknown;
    try {
      parseNevra('foo-x:1.0-1.noarch');
    } catch (caught) {
      error = caught;
    }
    expect(isRpmgateError(error) && error.code).toBe('bad_request');
  });

  it('parses a NEVR', () => {
    expect(parseNevr('rg-epoch-3:1.5-2')).toEqual({ name: 'rg-epoch', epoch: 3, version: '1.5', release: '2' });
  });
});

describe('formatNevra', () => {
  const pkg = { name: 'rg-hello', epoch: null, version: '2.0^git1', release: '1', arch: 'noarch' };

  it('writes no epoch when it is absent or 0', () => {
    expect(formatNevra(pkg)).toBe('rg-hello-2.0^git1-1.noarch');
    expect(formatNevra({ ...pkg, epoch: 0 })).toBe('rg-hello-2.0^git1-1.noarch');
  });

  it('writes a non-zero epoch', () => {
    expect(formatNevra({ ...pkg, epoch: 3 })).toBe('rg-hello-3:2.0^git1-1.noarch');
    expect(formatNevr({ ...pkg, epoch: 3 })).toBe('rg-hello-3:2.0^git1-1');
    expect(formatNvra({ ...pkg, epoch: 3 })).toBe('rg-hello-2.0^git1-1.noarch');
  });

  it('round-trips through parseNevra', () => {
    for (const s of ['rg-hello-2.0-1.noarch', 'rg-epoch-3:1.5-2.x86_64', 'foo-bar-0-1.2-3.el9.src']) {
      expect(formatNevra(parseNevra(s))).toBe(s);
    }
  });
});

describe('RPM file names', () => {
  it('formats and parses name-version-release.arch.rpm', () => {
    const nevra = { name: 'rg-hello', epoch: null, version: '3.0~rc1', release: '1', arch: 'noarch' };
    expect(formatRpmFileName({ ...nevra, epoch: 5 })).toBe('rg-hello-3.0~rc1-1.noarch.rpm');
    expect(parseRpmFileName('Packages/r/rg-hello-3.0~rc1-1.noarch.rpm')).toEqual(nevra);
  });

  it.each(['rg-hello-1.0-1.noarch', 'rg-hello.noarch.rpm', 'rg-hello-1:1.0-1.noarch.rpm'])('refuses %s', (name) => {
    expect(() => parseRpmFileName(name)).toThrow(/file name/);
  });
});
