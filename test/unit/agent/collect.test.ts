// Parsing what rpm and the OS say about a host: rpm -qa query-format output and os-release(5).
import { describe, expect, it } from 'vitest';
import { describeOs, parseOsRelease, parseRpmQa } from '../../../agent/collect.ts';
import { isRpmgateError } from '../../../common/errors.ts';

describe('parseRpmQa', () => {
  it('splits names with dashes on tabs, not dashes', () => {
    const packages = parseRpmQa('python3-dnf-plugins-core\t(none)\t4.3.0\t1.el9\tnoarch\nglibc-langpack-en\t(none)\t2.34\t60.el9\tx86_64\n');
    expect(packages).toEqual([
      { name: 'glibc-langpack-en', epoch: null, version: '2.34', release: '60.el9', arch: 'x86_64' },
      { name: 'python3-dnf-plugins-core', epoch: null, version: '4.3.0', release: '1.el9', arch: 'noarch' },
    ]);
  });

  it('reads an epoch as a number and "(none)" as null; epoch 0 stays 0', () => {
    const packages = parseRpmQa('rg-epoch\t3\t1.5\t2\tnoarch\nperl-libs\t4\t5.32.1\t480.el9\tx86_64\nzero\t0\t1\t1\tnoarch\nplain\t(none)\t1\t1\tnoarch\n');
    expect(packages.map((p) => [p.name, p.epoch])).toEqual([
      ['perl-libs', 4],
      ['plain', null],
      ['rg-epoch', 3],
      ['zero', 0],
    ]);
  });

  it('keeps ^ and ~ versions verbatim and orders versions of one name as rpm does', () => {
    const packages = parseRpmQa('rg-hello\t(none)\t2.0^git1\t1\tnoarch\nrg-hello\t(none)\t3.0~rc1\t1\tnoarch\nrg-hello\t(none)\t2.0\t1\tnoarch\n');
    expect(packages.map((p) => p.version)).toEqual(['2.0', '2.0^git1', '3.0~rc1']);
  });

  it('leaves out gpg-pubkey pseudo-packages (imported keys, not software)', () => {
    const packages = parseRpmQa('gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\nbash\t(none)\t5.1.8\t6.el9\tx86_64\n');
    expect(packages.map((p) => p.name)).toEqual(['bash']);
  });

  it('accepts empty output (an empty database) and ignores blank lines', () => {
    expect(parseRpmQa('')).toEqual([]);
    expect(parseRpmQa('\n\nbash\t(none)\t5\t1\tx86_64\n\n')).toHaveLength(1);
  });

  it('refuses lines that are not five tab-separated fields, or a non-numeric epoch', () => {
    for (const text of ['bash-5.1.8-6.el9.x86_64\n', 'bash\t(none)\t5\t1\n', 'bash\tx\t5\t1\tx86_64\n', 'bash\t(none)\t\t1\tx86_64\n']) {
      let error: unknown;
      try {
        parseRpmQa(text);
      } catch (e) {
        error = e;
      }
      expect(isRpmgateError(error), text).toBe(true);
    }
  });
});

describe('parseOsRelease', () => {
  it('reads double-quoted, single-quoted and bare values, skipping comments', () => {
    const fields = parseOsRelease(
      ['# comment', 'NAME="Rocky Linux"', "ID='rocky'", 'VERSION_ID=9.3', '', 'PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"', 'junk line'].join('\n'),
    );
    expect(fields).toEqual({ NAME: 'Rocky Linux', ID: 'rocky', VERSION_ID: '9.3', PRETTY_NAME: 'Rocky Linux 9.3 (Blue Onyx)' });
  });

  it('undoes backslash escapes inside double quotes', () => {
    expect(parseOsRelease('PRETTY_NAME="My \\"special\\" OS \\$1 \\\\ end"\n').PRETTY_NAME).toBe('My "special" OS $1 \\ end');
  });

  it('describes the OS by PRETTY_NAME, else ID and VERSION_ID, else NAME', () => {
    expect(describeOs({ PRETTY_NAME: 'Fedora Linux 40', ID: 'fedora', VERSION_ID: '40' })).toBe('Fedora Linux 40');
    expect(describeOs({ ID: 'almalinux', VERSION_ID: '9.4' })).toBe('almalinux 9.4');
    expect(describeOs({ ID: 'arch' })).toBe('arch');
    expect(describeOs({ NAME: 'Something' })).toBe('Something');
    expect(describeOs({})).toBe('unknown');
  });
});
