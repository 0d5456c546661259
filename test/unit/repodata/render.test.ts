import { describe, expect, it } from 'vitest';
import sax from 'sax';
import type { Dependency, RpmPackage } from '../../../common/rpm/package.ts';
import { RPMSENSE } from '../../../common/rpm/depmatch.ts';
import { documentHead, documentTail } from '../../../common/repodata/document.ts';
import { renderFilelistsPackage } from '../../../common/repodata/filelists.ts';
import { renderOtherPackage, selectChangelogs } from '../../../common/repodata/other.ts';
import { isPrimaryFile, renderPrimaryPackage, selectPrimaryDependencies } from '../../../common/repodata/primary.ts';

const EQ = RPMSENSE.EQUAL;
const LE = RPMSENSE.LESS | RPMSENSE.EQUAL;
const GE = RPMSENSE.GREATER | RPMSENSE.EQUAL;

// createrepo_c's own test package Rimmer-1.0.2-2.x86_64.rpm, as the RPM reader models it.
function rimmer(): RpmPackage {
  return {
    name: 'Rimmer',
    epoch: null,
    version: '1.0.2',
    release: '2',
    arch: 'x86_64',
    isSource: false,
    sourcerpm: 'Rimmer-1.0.2-2.src.rpm',
    summary: 'Package with weak deps.',
    description: 'Package with weak deps.',
    url: 'http://pkgwithweakdeps.eu/',
    license: 'GPL',
    vendor: '',
    group: 'Development/Tools',
    packager: 'Arnold Rimmer',
    buildhost: 'terminator',
    buildtime: 1396363574,
    sizes: { package: 3096, installed: 0, archive: 420 },
    headerRange: { start: 280, end: 2876 },
    provides: [
      { name: 'Rimmer', flags: EQ, evr: '1.0.2-2' },
      { name: 'Rimmer(x86-64)', flags: EQ, evr: '1.0.2-2' },
      { name: 'pro', flags: LE, evr: '3' },
    ],
    requires: [
      { name: 'req', flags: LE, evr: '1' },
      { name: 'reqpre', flags: EQ | RPMSENSE.SCRIPT_PRE, evr: '2' },
      { name: 'rpmlib(CompressedFileNames)', flags: LE | RPMSENSE.RPMLIB, evr: '3.0.4-1' },
      { name: 'rpmlib(PayloadIsXz)', flags: LE | RPMSENSE.RPMLIB, evr: '5.2-1' },
    ],
    conflicts: [{ name: 'con', flags: LE, evr: '5' }],
    obsoletes: [{ name: 'obs', flags: LE, evr: '4' }],
    suggests: [{ name: 'sug', flags: RPMSENSE.GREATER, evr: '6' }],
    enhances: [{ name: 'enh', flags: RPMSENSE.LESS, evr: '7' }],
    recommends: [{ name: 'rec', flags: EQ, evr: '8' }],
    supplements: [{ name: 'sup', flags: RPMSENSE.GREATER, evr: '9' }],
    files: [
      { path: '/usr/bin/complex_a', type: 'file' },
      { path: '/usr/share/doc/Rimmer-1.0.2', type: 'dir' },
      { path: '/usr/share/doc/Rimmer-1.0.2/README', type: 'file' },
    ],
    changelogs: [
      {
        time: 1334750400,
        author: 'Tomas Mlcoch <tmlcoch@redhat.com> - 2.2.2-2',
        text: "- Look, we've all got something to contribute to this discussion. And\n  I think what you should contribute from now on is silence.",
      },
      { time: 1334664000, author: 'Tomas Mlcoch <tmlcoch@redhat.com> - 1.1.1-1', text: '- First changelog.' },
    ],
  };
}

const PKGID = '60dee92d523e8390eb7430fca8ffce461b5b2ad4eb19878cde5c16d72955ee49';

function withDeps(requires: Dependency[], extra: Partial<RpmPackage> = {}): RpmPackage {
  return { ...rimmer(), provides: [], requires, conflicts: [], obsoletes: [], suggests: [], enhances: [], recommends: [], supplements: [], ...extra };
}

function assertWellFormed(xml: string): void {
  const parser = sax.parser(true);
  parser.onerror = (error) => {
    throw error;
  };
  parser.write(xml).close();
}

describe('renderPrimaryPackage', () => {
  it('writes the element byte for byte as createrepo_c 0.17.3 does (Rimmer, from its own test data)', () => {
    // Copied from `createrepo_c --no-database` 0.17.3 output for Rimmer-1.0.2-2.x86_64.rpm.
    const expected = `<package type="rpm">
  <name>Rimmer</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="1.0.2" rel="2"/>
  <checksum type="sha256" pkgid="YES">${PKGID}</checksum>
  <summary>Package with weak deps.</summary>
  <description>Package with weak deps.</description>
  <packager>Arnold Rimmer</packager>
  <url>http://pkgwithweakdeps.eu/</url>
  <time file="1795506500" build="1396363574"/>
  <size package="3096" installed="0" archive="420"/>
  <location href="Rimmer-1.0.2-2.x86_64.rpm"/>
  <format>
    <rpm:license>GPL</rpm:license>
    <rpm:vendor></rpm:vendor>
    <rpm:group>Development/Tools</rpm:group>
    <rpm:buildhost>terminator</rpm:buildhost>
    <rpm:sourcerpm>Rimmer-1.0.2-2.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="280" end="2876"/>
    <rpm:provides>
      <rpm:entry name="Rimmer" flags="EQ" epoch="0" ver="1.0.2" rel="2"/>
      <rpm:entry name="Rimmer(x86-64)" flags="EQ" epoch="0" ver="1.0.2" rel="2"/>
      <rpm:entry name="pro" flags="LE" epoch="0" ver="3"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="req" flags="LE" epoch="0" ver="1"/>
      <rpm:entry name="reqpre" flags="EQ" epoch="0" ver="2" pre="1"/>
    </rpm:requires>
    <rpm:conflicts>
      <rpm:entry name="con" flags="LE" epoch="0" ver="5"/>
    </rpm:conflicts>
    <rpm:obsoletes>
      <rpm:entry name="obs" flags="LE" epoch="0" ver="4"/>
    </rpm:obsoletes>
    <rpm:suggests>
      <rpm:entry name="sug" flags="GT" epoch="0" ver="6"/>
    </rpm:suggests>
    <rpm:enhances>
      <rpm:entry name="enh" flags="LT" epoch="0" ver="7"/>
    </rpm:enhances>
    <rpm:recommends>
      <rpm:entry name="rec" flags="EQ" epoch="0" ver="8"/>
    </rpm:recommends>
    <rpm:supplements>
      <rpm:entry name="sup" flags="GT" epoch="0" ver="9"/>
    </rpm:supplements>
    <file>/usr/bin/complex_a</file>
  </format>
</package>
`;
    const xml = renderPrimaryPackage(rimmer(), { pkgid: PKGID, locationHref: 'Rimmer-1.0.2-2.x86_64.rpm', fileTime: 1795506500 });
    expect(xml).toBe(expected);
  });

  it('writes the package epoch, an empty source rpm for a source package, and escapes text and attributes', () => {
    const pkg: RpmPackage = {
      ...withDeps([]),
      epoch: 2,
      arch: 'src',
      isSource: true,
      sourcerpm: null,
      summary: 'a & b < c > d "e"',
      description: 'line 1\r\nline 2',
      files: [],
      changelogs: [],
    };
    const xml = renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'x/a&b é.rpm', fileTime: 1 });
    expect(xml).toContain('  <version epoch="2" ver="1.0.2" rel="2"/>\n');
    expect(xml).toContain('  <summary>a &amp; b &lt; c &gt; d "e"</summary>\n');
    expect(xml).toContain('  <description>line 1&#13;\nline 2</description>\n');
    expect(xml).toContain('  <location href="x/a&amp;b &#xE9;.rpm"/>\n');
    expect(xml).toContain('    <rpm:sourcerpm></rpm:sourcerpm>\n');
    expect(xml).not.toContain('<rpm:provides');
    assertWellFormed(`<r xmlns:rpm="urn:x">${xml}</r>`);
  });

  it('lists only primary files: /etc/*, anything with bin/ in it, /usr/lib/sendmail, with their dir/ghost type', () => {
    expect(isPrimaryFile('/etc/foo.conf')).toBe(true);
    expect(isPrimaryFile('/etc')).toBe(false);
    expect(isPrimaryFile('/usr/bin/x')).toBe(true);
    expect(isPrimaryFile('/opt/app/sbin/y')).toBe(true);
    expect(isPrimaryFile('/usr/lib/cabin/z')).toBe(true); // "bin/" anywhere, as yum expects
    expect(isPrimaryFile('/usr/lib/sendmail')).toBe(true);
    expect(isPrimaryFile('/usr/lib/sendmail.d')).toBe(false);
    expect(isPrimaryFile('/usr/share/doc/README')).toBe(false);
    const pkg: RpmPackage = {
      ...withDeps([]),
      files: [
        { path: '/etc/app.d', type: 'dir' },
        { path: '/etc/app.conf', type: 'file' },
        { path: '/usr/sbin/appd', type: 'ghost' },
        { path: '/usr/share/app/data', type: 'file' },
      ],
    };
    const xml = renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 0 });
    expect(xml).toContain(
      '    <file type="dir">/etc/app.d</file>\n    <file>/etc/app.conf</file>\n    <file type="ghost">/usr/sbin/appd</file>\n  </format>\n',
    );
    expect(xml).not.toContain('/usr/share/app/data');
  });
});

describe('selectPrimaryDependencies (createrepo_c parsehdr.c rules)', () => {
  const names = (deps: { name: string }[]) => deps.map((d) => d.name);

  it('drops rpmlib() requires, requires on own primary files and requires equal to an own provide', () => {
    const pkg = withDeps(
      [
        { name: 'rpmlib(PayloadIsZstd)', flags: LE | RPMSENSE.RPMLIB, evr: '5.4.18-1' },
        { name: '/usr/bin/tool', flags: 0, evr: '' },
        { name: '/usr/share/tool/data', flags: 0, evr: '' },
        { name: '/etc/tool.conf', flags: 0, evr: '' },
        { name: '/bin/sh', flags: 0, evr: '' },
        { name: 'virtual', flags: EQ, evr: '2.0' },
        { name: 'virtual', flags: GE, evr: '2.0' },
        { name: 'selfname', flags: 0, evr: '' },
      ],
      {
        provides: [
          { name: 'virtual', flags: EQ, evr: '2.0' },
          { name: 'selfname', flags: 0, evr: '' },
        ],
        files: [
          { path: '/usr/bin/tool', type: 'file' },
          { path: '/usr/share/tool/data', type: 'file' },
        ],
      },
    );
    const deps = selectPrimaryDependencies(pkg);
    // /etc/tool.conf is primary but not in the package; /usr/share/... is in the package but not primary.
    expect(names(deps.requires)).toEqual(['/usr/share/tool/data', '/etc/tool.conf', '/bin/sh', 'virtual']);
    expect(deps.requires[3]).toMatchObject({ flags: 'GE', ver: '2.0' });
  });

  it('drops a require identical to the last one kept with the same name, pre included', () => {
    const pkg = withDeps([
      { name: 'a', flags: 0, evr: '' },
      { name: 'a', flags: 0, evr: '' },
      { name: 'a', flags: RPMSENSE.SCRIPT_PRE, evr: '' },
      { name: 'a', flags: 0, evr: '' },
      { name: 'b', flags: GE, evr: '1' },
      { name: 'b', flags: GE | RPMSENSE.SCRIPT_POSTUN, evr: '1' },
      { name: 'b', flags: GE, evr: '1-1' },
    ]);
    const deps = selectPrimaryDependencies(pkg).requires;
    expect(deps.map((d) => `${d.name}${d.pre ? '(pre)' : ''}:${d.rel ?? ''}`)).toEqual(['a:', 'a(pre):', 'a:', 'b:', 'b:1']);
  });

  it('sets pre for PREREQ, SCRIPT_PRE and SCRIPT_POST only', () => {
    const pkg = withDeps([
      { name: 'prereq', flags: RPMSENSE.PREREQ, evr: '' },
      { name: 'pre', flags: RPMSENSE.SCRIPT_PRE, evr: '' },
      { name: 'post', flags: RPMSENSE.SCRIPT_POST, evr: '' },
      { name: 'preun', flags: RPMSENSE.SCRIPT_PREUN, evr: '' },
      { name: 'pretrans', flags: RPMSENSE.PRETRANS, evr: '' },
    ]);
    const xml = renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 0 });
    expect(xml).toContain(
      '      <rpm:entry name="prereq" pre="1"/>\n      <rpm:entry name="pre" pre="1"/>\n      <rpm:entry name="post" pre="1"/>\n' +
        '      <rpm:entry name="preun"/>\n      <rpm:entry name="pretrans"/>\n',
    );
  });

  it('keeps only the highest libc.so.6 require and puts it last', () => {
    const pkg = withDeps([
      { name: 'libc.so.6()(64bit)', flags: 0, evr: '' },
      { name: 'libc.so.6(GLIBC_2.2.5)(64bit)', flags: 0, evr: '' },
      { name: 'libm.so.6()(64bit)', flags: 0, evr: '' },
      { name: 'libc.so.6(GLIBC_2.14)(64bit)', flags: 0, evr: '' },
      { name: 'libc.so.6(GLIBC_2.3.4)(64bit)', flags: 0, evr: '' },
      { name: 'zlib', flags: 0, evr: '' },
    ]);
    expect(names(selectPrimaryDependencies(pkg).requires)).toEqual(['libm.so.6()(64bit)', 'zlib', 'libc.so.6(GLIBC_2.14)(64bit)']);
  });

  it('moves MISSINGOK requires to recommends, ahead of the real recommends (ENABLE_LEGACY_WEAKDEPS)', () => {
    const pkg = withDeps([{ name: 'old-weak', flags: RPMSENSE.MISSINGOK | RPMSENSE.SCRIPT_PRE, evr: '' }], {
      recommends: [{ name: 'new-weak', flags: 0, evr: '' }],
    });
    const deps = selectPrimaryDependencies(pkg);
    expect(deps.requires).toEqual([]);
    expect(deps.recommends).toEqual([
      { name: 'old-weak', flags: null, epoch: null, ver: null, rel: null, pre: false },
      { name: 'new-weak', flags: null, epoch: null, ver: null, rel: null, pre: false },
    ]);
  });

  it('splits the EVR like cr_str_to_evr: epoch 0 by default, version to the first dash, bad epochs skipped', () => {
    const pkg = withDeps([], {
      provides: [
        { name: 'plain', flags: 0, evr: '' },
        { name: 'v', flags: EQ, evr: '1.0' },
        { name: 'evr', flags: GE, evr: '3:1.0-2.fc40' },
        { name: 'empty-epoch', flags: EQ, evr: ':1.0' },
        { name: 'two-dashes', flags: EQ, evr: '1.0-2-3' },
        { name: 'trailing-dash', flags: EQ, evr: '1.0-' },
        { name: 'bad-epoch', flags: EQ, evr: 'x:1.0' },
        { name: 'neither', flags: LE | GE, evr: '1.0' }, // LESS|GREATER|EQUAL has no name: no flags, no version
        { name: 'unversioned-flags', flags: 0, evr: '1.0' },
      ],
    });
    const xml = renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 0 });
    expect(xml).toContain(
      '    <rpm:provides>\n' +
        '      <rpm:entry name="plain"/>\n' +
        '      <rpm:entry name="v" flags="EQ" epoch="0" ver="1.0"/>\n' +
        '      <rpm:entry name="evr" flags="GE" epoch="3" ver="1.0" rel="2.fc40"/>\n' +
        '      <rpm:entry name="empty-epoch" flags="EQ" epoch="0" ver="1.0"/>\n' +
        '      <rpm:entry name="two-dashes" flags="EQ" epoch="0" ver="1.0" rel="2-3"/>\n' +
        '      <rpm:entry name="trailing-dash" flags="EQ" epoch="0" ver="1.0"/>\n' +
        '      <rpm:entry name="neither"/>\n' +
        '      <rpm:entry name="unversioned-flags"/>\n' +
        '    </rpm:provides>\n',
    );
  });

  it('writes an empty list element when every entry is nameless, as libxml2 would', () => {
    const pkg = withDeps([], { conflicts: [{ name: '', flags: 0, evr: '' }] });
    expect(renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 0 })).toContain('    <rpm:conflicts/>\n');
  });

  it('refuses non-integer sizes and times rather than writing them', () => {
    expect(() => renderPrimaryPackage(rimmer(), { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 1.5 })).toThrow(RangeError);
  });
});

describe('renderFilelistsPackage', () => {
  it('writes every file with its type, as createrepo_c 0.17.3 does', () => {
    expect(renderFilelistsPackage(rimmer(), PKGID)).toBe(`<package pkgid="${PKGID}" name="Rimmer" arch="x86_64">
  <version epoch="0" ver="1.0.2" rel="2"/>
  <file>/usr/bin/complex_a</file>
  <file type="dir">/usr/share/doc/Rimmer-1.0.2</file>
  <file>/usr/share/doc/Rimmer-1.0.2/README</file>
</package>
`);
  });

  it('writes a package without files as version only, ghost files typed', () => {
    const pkg: RpmPackage = { ...rimmer(), epoch: 7, files: [{ path: '/var/log/a <b>.log', type: 'ghost' }] };
    expect(renderFilelistsPackage(pkg, PKGID)).toContain('  <version epoch="7" ver="1.0.2" rel="2"/>\n  <file type="ghost">/var/log/a &lt;b&gt;.log</file>\n</package>\n');
    expect(renderFilelistsPackage({ ...pkg, files: [] }, PKGID)).toMatch(/rel="2"\/>\n<\/package>\n$/);
  });
});

describe('renderOtherPackage', () => {
  it('writes the changelog oldest first, as createrepo_c 0.17.3 does', () => {
    expect(renderOtherPackage(rimmer(), PKGID)).toBe(`<package pkgid="${PKGID}" name="Rimmer" arch="x86_64">
  <version epoch="0" ver="1.0.2" rel="2"/>
  <changelog author="Tomas Mlcoch &lt;tmlcoch@redhat.com&gt; - 1.1.1-1" date="1334664000">- First changelog.</changelog>
  <changelog author="Tomas Mlcoch &lt;tmlcoch@redhat.com&gt; - 2.2.2-2" date="1334750400">- Look, we've all got something to contribute to this discussion. And
  I think what you should contribute from now on is silence.</changelog>
</package>
`);
  });

  it('keeps the 10 newest entries by default, or as many as asked (-1: all)', () => {
    const changelogs = Array.from({ length: 12 }, (_, i) => ({ author: `a${i}`, time: 1000 - i * 10, text: `t${i}` }));
    expect(selectChangelogs(changelogs).map((c) => c.author)).toEqual(['a9', 'a8', 'a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1', 'a0']);
    expect(selectChangelogs(changelogs, 2).map((c) => c.author)).toEqual(['a1', 'a0']);
    expect(selectChangelogs(changelogs, -1)).toHaveLength(12);
    expect(selectChangelogs(changelogs, 0)).toEqual([]);
    expect(renderOtherPackage({ ...rimmer(), changelogs }, PKGID, { changelogLimit: 1 })).toContain('<changelog author="a0" date="1000">t0</changelog>\n</package>');
  });

  it('makes equal dates unique by pushing the newer entries of a run one second later each', () => {
    const changelogs = [
      { author: 'newest', time: 500, text: '' },
      { author: 'middle', time: 500, text: '' },
      { author: 'older', time: 500, text: '' },
      { author: 'oldest', time: 100, text: '' },
    ];
    expect(selectChangelogs(changelogs).map((c) => `${c.author}@${c.time}`)).toEqual(['oldest@100', 'older@500', 'middle@501', 'newest@502']);
    expect(changelogs[0]!.time).toBe(500); // the input is not modified
  });

  it('trims trailing spaces from the author, but never its first character', () => {
    const changelogs = [
      { author: 'Jörg <j@example.com>   ', time: 2, text: 'x' },
      { author: ' ', time: 1, text: 'y' },
    ];
    expect(selectChangelogs(changelogs).map((c) => c.author)).toEqual([' ', 'Jörg <j@example.com>']);
    expect(renderOtherPackage({ ...rimmer(), changelogs }, PKGID)).toContain('author="J&#xF6;rg &lt;j@example.com&gt;" date="2">x</changelog>');
  });
});

describe('documentHead / documentTail', () => {
  it('frame fragments exactly as createrepo_c does, including an empty document', () => {
    expect(documentHead('primary', 0) + documentTail('primary')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="0">\n</metadata>',
    );
    expect(documentHead('filelists', 3)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="3">\n');
    expect(documentHead('other', 12)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="12">\n');
    expect(documentTail('filelists')).toBe('</filelists>');
    expect(documentTail('other')).toBe('</otherdata>');
    expect(() => documentHead('primary', -1)).toThrow(RangeError);
  });

  it('make a well-formed document with the rendered fragments', () => {
    const pkg = rimmer();
    assertWellFormed(documentHead('primary', 2) + renderPrimaryPackage(pkg, { pkgid: PKGID, locationHref: 'a.rpm', fileTime: 0 }).repeat(2) + documentTail('primary'));
    assertWellFormed(documentHead('filelists', 1) + renderFilelistsPackage(pkg, PKGID) + documentTail('filelists'));
    assertWellFormed(documentHead('other', 1) + renderOtherPackage(pkg, PKGID) + documentTail('other'));
  });
});
