import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpmPackage } from '../../../common/rpm/package.ts';
import { documentHead, documentTail, type RepodataKind } from '../../../common/repodata/document.ts';
import { renderFilelistsPackage } from '../../../common/repodata/filelists.ts';
import { renderOtherPackage } from '../../../common/repodata/other.ts';
import { iterateRepodata, readRepodata } from '../../../common/repodata/parse.ts';
import { renderPrimaryPackage } from '../../../common/repodata/primary.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

const PKGID_A = 'a'.repeat(64);
const PKGID_B = 'b'.repeat(64);

function makePackage(name: string, overrides: Partial<RpmPackage> = {}): RpmPackage {
  return {
    name,
    epoch: null,
    version: '1.0',
    release: '1',
    arch: 'noarch',
    isSource: false,
    sourcerpm: `${name}-1.0-1.src.rpm`,
    summary: `Summary of ${name} & co`,
    description: 'Two lines,\n  the second indented, with “quotes” and é',
    url: '',
    license: 'MIT',
    vendor: 'Vendor <v@example.com>',
    group: 'Unspecified',
    packager: '',
    buildhost: 'builder',
    buildtime: 1700000000,
    sizes: { package: 1234, installed: 5678, archive: 6000 },
    headerRange: { start: 4504, end: 6000 },
    provides: [{ name, flags: 8, evr: '1.0-1' }],
    requires: [
      { name: 'zlib', flags: 12, evr: '1.2' },
      { name: 'bash', flags: 512, evr: '' },
    ],
    conflicts: [],
    obsoletes: [],
    suggests: [],
    enhances: [],
    recommends: [{ name: 'rec', flags: 0, evr: '' }],
    supplements: [],
    files: [
      { path: '/usr/bin/tool', type: 'file' },
      { path: '/etc/tool.d', type: 'dir' },
      { path: '/usr/share/tool/žluť <1>.txt', type: 'file' },
      { path: '/var/log/tool.log', type: 'ghost' },
    ],
    changelogs: [
      { author: 'Jörg <j@example.com> - 1.0-1', time: 1700000000, text: '- second & last' },
      { author: 'A <a@example.com> - 0.9-1', time: 1600000000, text: '- first' },
    ],
    ...overrides,
  };
}

function document(kind: RepodataKind, packages: [RpmPackage, string][]): string {
  const render = {
    primary: (pkg: RpmPackage, pkgid: string) => renderPrimaryPackage(pkg, { pkgid, locationHref: `Packages/${pkg.name}.rpm`, fileTime: 1700000001 }),
    filelists: renderFilelistsPackage,
    other: (pkg: RpmPackage, pkgid: string) => renderOtherPackage(pkg, pkgid),
  }[kind];
  return documentHead(kind, packages.length) + packages.map(([pkg, id]) => render(pkg, id)).join('') + documentTail(kind);
}

const twoPackages: [RpmPackage, string][] = [
  [makePackage('tool'), PKGID_A],
  [makePackage('other', { epoch: 2, files: [], changelogs: [] }), PKGID_B],
];

describe('iterateRepodata / readRepodata', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rpmgate-parse-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('normalizes a primary entry, keeping every attribute and text', async () => {
    const doc = await readRepodata('primary', Buffer.from(document('primary', twoPackages)));
    expect(doc.packageCount).toBe(2);
    expect([...doc.entries.keys()]).toEqual([PKGID_A, PKGID_B]);
    expect(doc.entries.get(PKGID_A)).toEqual({
      pkgid: PKGID_A,
      attrs: { type: 'rpm' },
      name: 'tool',
      arch: 'noarch',
      version: { epoch: '0', ver: '1.0', rel: '1' },
      checksum: { attrs: { type: 'sha256', pkgid: 'YES' }, value: PKGID_A },
      summary: 'Summary of tool & co',
      description: 'Two lines,\n  the second indented, with “quotes” and é',
      packager: '',
      url: '',
      time: { file: '1700000001', build: '1700000000' },
      size: { package: '1234', installed: '5678', archive: '6000' },
      location: { href: 'Packages/tool.rpm' },
      format: {
        license: 'MIT',
        vendor: 'Vendor <v@example.com>',
        group: 'Unspecified',
        buildhost: 'builder',
        sourcerpm: 'tool-1.0-1.src.rpm',
        headerRange: { start: '4504', end: '6000' },
        provides: [{ name: 'tool', flags: 'EQ', epoch: '0', ver: '1.0', rel: '1' }],
        requires: [
          { name: 'bash', pre: '1' },
          { name: 'zlib', flags: 'GE', epoch: '0', ver: '1.2' },
        ],
        conflicts: [],
        obsoletes: [],
        suggests: [],
        enhances: [],
        recommends: [{ name: 'rec' }],
        supplements: [],
        files: [
          { path: '/etc/tool.d', type: 'dir' },
          { path: '/usr/bin/tool', type: 'file' },
        ],
      },
      extra: [],
    });
    expect(doc.entries.get(PKGID_B)?.version).toEqual({ epoch: '2', ver: '1.0', rel: '1' });
  });

  it('normalizes filelists and other entries', async () => {
    const filelists = await readRepodata('filelists', Buffer.from(document('filelists', twoPackages)));
    expect(filelists.entries.get(PKGID_A)).toEqual({
      pkgid: PKGID_A,
      attrs: { pkgid: PKGID_A, name: 'tool', arch: 'noarch' },
      version: { epoch: '0', ver: '1.0', rel: '1' },
      files: [
        { path: '/etc/tool.d', type: 'dir' },
        { path: '/usr/bin/tool', type: 'file' },
        { path: '/usr/share/tool/žluť <1>.txt', type: 'file' },
        { path: '/var/log/tool.log', type: 'ghost' },
      ],
      extra: [],
    });
    expect(filelists.entries.get(PKGID_B)?.files).toEqual([]);

    const other = await readRepodata('other', Buffer.from(document('other', twoPackages)));
    expect(other.entries.get(PKGID_A)?.changelogs).toEqual([
      { author: 'A <a@example.com> - 0.9-1', date: '1600000000', text: '- first' },
      { author: 'Jörg <j@example.com> - 1.0-1', date: '1700000000', text: '- second & last' },
    ]);
  });

  it('compares equal whatever the order of dependencies and files', async () => {
    const [pkg] = twoPackages[0]!;
    const shuffled = makePackage('tool', {
      requires: [...pkg.requires].reverse(),
      files: [...pkg.files].reverse(),
    });
    for (const kind of ['primary', 'filelists'] as const) {
      const a = await readRepodata(kind, Buffer.from(document(kind, [[pkg, PKGID_A]])));
      const b = await readRepodata(kind, Buffer.from(document(kind, [[shuffled, PKGID_A]])));
      expect(b.entries).toEqual(a.entries);
    }
  });

  it('reads gzip or plain, from bytes, a file or a stream split anywhere (even inside a UTF-8 character)', async () => {
    const xml = document('filelists', twoPackages);
    const gz = gzipSync(xml);
    const plainPath = path.join(dir, 'filelists.xml');
    const gzPath = path.join(dir, 'filelists.xml.gz');
    await writeFile(plainPath, xml);
    await writeFile(gzPath, gz);
    // A multi-member gzip (one member per package, as a server may stitch it) reads the same.
    const head = documentHead('filelists', 2);
    const multi = Buffer.concat([
      gzipSync(head + renderFilelistsPackage(twoPackages[0]![0], PKGID_A)),
      gzipSync(renderFilelistsPackage(twoPackages[1]![0], PKGID_B) + documentTail('filelists')),
    ]);
    const inChunks = (bytes: Buffer, size: number) =>
      Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

    const expected = (await readRepodata('filelists', Buffer.from(xml))).entries;
    for (const source of [gz, plainPath, gzPath, multi, inChunks(Buffer.from(xml), 3), inChunks(gz, 5)]) {
      expect((await readRepodata('filelists', source)).entries).toEqual(expected);
    }
  });

  it('streams entries one by one', async () => {
    const seen: string[] = [];
    for await (const entry of iterateRepodata('other', Buffer.from(document('other', twoPackages)))) seen.push(entry.pkgid);
    expect(seen).toEqual([PKGID_A, PKGID_B]);
  });

  it('refuses the wrong document kind, malformed XML, and a pkgid listed twice in a map', async () => {
    await expect(readRepodata('primary', Buffer.from(document('other', twoPackages)))).rejects.toThrow(/<metadata>/);
    await expect(readRepodata('other', Buffer.from('<otherdata packages="1"><package pkgid="x"></otherdata>'))).rejects.toThrow();
    await expect(readRepodata('other', Buffer.from(''))).rejects.toThrow();
    const twice = document('other', [twoPackages[0]!, twoPackages[0]!]);
    await expect(readRepodata('other', Buffer.from(twice))).rejects.toThrow(/twice/);
    const all: string[] = [];
    for await (const entry of iterateRepodata('other', Buffer.from(twice))) all.push(entry.pkgid);
    expect(all).toEqual([PKGID_A, PKGID_A]);
  });
});

describe.skipIf(!corpusAvailable)('readRepodata on createrepo_c golden files', () => {
  it('collects unknown elements in extra instead of losing them', async () => {
    const doc = await readRepodata('primary', corpusPath('createrepo_c/modified_repo_files/unknown_element_00-primary.xml'));
    const fakeBash = doc.entries.get('90f61e546938a11449b710160ad294618a5bd3062e46f8cf851fd0088af184b7');
    expect(fakeBash?.extra).toEqual([{ path: 'foo', attrs: {}, text: 'foo element' }]);
    expect(fakeBash?.url).toBe('http://fake_bash_shell.com/');
  });

  it('reads a gzip primary.xml from a path', async () => {
    const doc = await readRepodata('primary', corpusPath('createrepo_c/repo_02/repodata/bcde64b04916a2a72fdc257d61bc922c70b3d58e953499180585f7a360ce86cf-primary.xml.gz'));
    expect(doc.packageCount).toBe(2);
    expect([...doc.entries.values()].map((e) => e.name).sort()).toEqual(['fake_bash', 'super_kernel']);
  });

  it('decodes the ampersand escapes createrepo_c writes', async () => {
    const doc = await readRepodata('primary', corpusPath('createrepo_c/modified_repo_files/repo_01_ampersand-primary.xml'));
    const texts = [...doc.entries.values()].flatMap((e) => [e.summary, e.description, e.url]);
    expect(texts.some((t) => t.includes('&'))).toBe(true);
    expect(texts.some((t) => t.includes('&amp;'))).toBe(false);
  });
});
