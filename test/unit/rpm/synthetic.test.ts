// Packages written by the header writer (test/support/synthetic-rpm.ts) and read back: every field of the
// model, the signature and digest entries, the regions, as the reader must give them.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HeaderEntryInput } from '../../../common/rpm/header-writer.ts';
import { parseRpm, readRpmFile } from '../../../common/rpm/reader.ts';
import * as T from '../../../common/rpm/tags.ts';
import { S, SA, I18N, I32, hex, buildPackage, layout, patched, withSignatureDribble, expectRefused } from '../../support/synthetic-rpm.ts';

const good = buildPackage();

describe('a well-formed synthetic package', () => {
  it('maps every field of the model', () => {
    const parsed = parseRpm(good, { verifyPayload: true });
    const l = layout(good);
    expect(parsed.package).toEqual({
      name: 'demo',
      epoch: 2,
      version: '1.2',
      release: '3.el9',
      arch: 'x86_64',
      isSource: false,
      sourcerpm: 'demo-1.2-3.el9.src.rpm',
      summary: 'A demo package',
      description: 'Demo.\nTwo lines.',
      url: 'https://example.org/',
      license: 'MIT',
      vendor: 'Example',
      group: 'Applications/System',
      packager: 'Jane <jane@example.org>',
      buildhost: 'builder.example',
      buildtime: 1700000000,
      sizes: { package: good.length, installed: 4096, archive: 1234 },
      headerRange: { start: l.main, end: l.payload },
      provides: [
        { name: 'demo', flags: 8, evr: '2:1.2-3.el9' },
        { name: 'demo(x86-64)', flags: 8, evr: '2:1.2-3.el9' },
      ],
      requires: [
        { name: '/bin/sh', flags: 576, evr: '' },
        { name: 'libc.so.6()(64bit)', flags: 16384, evr: '' },
        { name: 'rpmlib(CompressedFileNames)', flags: 16777226, evr: '3.0.4-1' },
      ],
      conflicts: [],
      obsoletes: [],
      recommends: [{ name: 'demo-extras', flags: 12, evr: '1.0' }],
      suggests: [],
      supplements: [],
      enhances: [],
      // A %ghost directory is a directory for createrepo_c: S_ISDIR is tested first.
      files: [
        { path: '/usr/bin/demo', type: 'file' },
        { path: '/usr/bin/demo.d', type: 'dir' },
        { path: '/var/lib/state', type: 'ghost' },
        { path: '/var/lib/cache', type: 'dir' },
      ],
      changelogs: [
        { time: 1690000000, author: 'Jane <jane@example.org> - 1.2-3', text: '- Newer' },
        { time: 1680000000, author: 'Joe - 1.1-1', text: '- Older' },
      ],
    });
    expect(parsed.verified).toEqual({
      header: ['SHA1HEADER', 'SHA256HEADER'],
      payload: ['MD5', 'PAYLOADDIGEST', 'SIZE'],
    });
    expect(parsed.format).toBe('v4');
    expect(parsed.payloadOffset).toBe(l.payload);
  });

  it('parses from the headers alone, with the file size given', () => {
    const l = layout(good);
    const parsed = parseRpm(good.subarray(0, l.payload), { packageSize: good.length });
    expect(parsed.package.sizes.package).toBe(good.length);
    expect(parsed.verified.payload).toEqual([]);
  });

  it('prefers LONGSIZE and the signature header\'s LONGARCHIVESIZE, as createrepo_c', () => {
    const bytes = buildPackage({
      main: (base) => [...base, { tag: T.RPMTAG_LONGSIZE, type: T.RPM_INT64_TYPE, value: [5_000_000_000n] }],
      sig: [{ tag: T.RPMSIGTAG_LONGARCHIVESIZE, type: T.RPM_INT64_TYPE, value: [6_000_000_000n] }],
    });
    expect(parseRpm(bytes).package.sizes).toMatchObject({ installed: 5_000_000_000, archive: 6_000_000_000 });
  });

  it('is a source package when the lead says so, when SOURCERPM is absent, or when SOURCEPACKAGE is set', () => {
    const withoutSourcerpm = (base: HeaderEntryInput[]) => base.filter((entry) => entry.tag !== T.RPMTAG_SOURCERPM);
    for (const bytes of [
      buildPackage({ leadType: 1, main: withoutSourcerpm }),
      buildPackage({ leadType: 0, main: withoutSourcerpm }),
      buildPackage({ leadType: 1 }),
      buildPackage({ main: (base) => [...base, { tag: T.RPMTAG_SOURCEPACKAGE, type: I32, value: [1] }] }),
    ]) {
      expect(parseRpm(bytes).package).toMatchObject({ isSource: true, arch: 'src', sourcerpm: null });
    }
  });

  it('takes the first (C locale) string of an I18N tag and accepts a STRING where rpm defines I18NSTRING', () => {
    const bytes = buildPackage({
      main: (base) => [
        ...base.filter((e) => e.tag !== T.RPMTAG_SUMMARY && e.tag !== T.RPMTAG_HEADERI18NTABLE && e.tag !== T.RPMTAG_DESCRIPTION),
        { tag: T.RPMTAG_HEADERI18NTABLE, type: SA, value: ['C', 'de', 'fr'] },
        { tag: T.RPMTAG_SUMMARY, type: I18N, value: ['Hello', 'Hallo', 'Bonjour'] },
        { tag: T.RPMTAG_DESCRIPTION, type: S, value: 'plain string' },
      ],
    });
    expect(parseRpm(bytes).package).toMatchObject({ summary: 'Hello', description: 'plain string' });
  });

  it('repairs non-UTF-8 text as createrepo_c does and reports the tags', () => {
    const bytes = buildPackage({
      main: (base) => [
        ...base.filter((e) => e.tag !== T.RPMTAG_DESCRIPTION),
        // "café “x”" in Windows-1252: é (0xE9) kept as Latin-1, the 0x93/0x94 quotes dropped.
        { tag: T.RPMTAG_DESCRIPTION, type: I18N, value: [Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x78, 0x94])] },
      ],
    });
    const parsed = parseRpm(bytes);
    expect(parsed.package.description).toBe('café x');
    expect(parsed.nonUtf8Tags).toEqual([T.RPMTAG_DESCRIPTION]);
  });

  it('reads a v3 package: no regions, OLDFILENAMES, the package provide appended as rpm does', () => {
    const bytes = buildPackage({
      mainRegion: null,
      sigRegion: null,
      main: (base) => [
        ...base.filter((e) => ![T.RPMTAG_BASENAMES, T.RPMTAG_DIRNAMES, T.RPMTAG_DIRINDEXES].includes(e.tag)),
        { tag: T.RPMTAG_OLDFILENAMES, type: SA, value: ['/usr/bin/demo', '/usr/bin/demo.d', '/var/lib/state', '/var/lib/cache'] },
      ],
    });
    const parsed = parseRpm(bytes, { verifyPayload: true });
    expect(parsed.format).toBe('v3');
    expect(parsed.package.files.map((f) => f.path)).toEqual(['/usr/bin/demo', '/usr/bin/demo.d', '/var/lib/state', '/var/lib/cache']);
    expect(parsed.package.provides.at(-1)).toEqual({ name: 'demo', flags: 8, evr: '2:1.2-3.el9' });
    expect(parsed.package.provides).toHaveLength(3);
  });

  it('takes entries appended after the signature region that hold no digest, size or signature (IMA signatures, as in rpm\'s badima package)', () => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(4);
    const withDribble = withSignatureDribble(good, T.RPMSIGTAG_FILESIGNATURELENGTH, I32, length, 1);
    expect(parseRpm(withDribble, { verifyPayload: true }).package.name).toBe('demo');
  });

  it('refuses entries after the signature region that repeat a region tag or hold what rpm verifies: rpm, its header import and rpmsign read them differently', () => {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(999);
    expectRefused(withSignatureDribble(good, T.RPMSIGTAG_PAYLOADSIZE, I32, size, 1), /PAYLOADSIZE \(1007\) lies after the signature region/);
    const md5 = createHash('md5').update('other').digest();
    expectRefused(withSignatureDribble(buildPackage({ omit: [T.RPMSIGTAG_MD5] }), T.RPMSIGTAG_MD5, T.RPM_BIN_TYPE, md5, 16), /MD5 \(1004\) lies after the signature region/);
  });

  it('verifies PAYLOADDIGEST as SHA-256 whatever PAYLOADDIGESTALGO says, as rpm does', () => {
    const payload = Buffer.from('\x1f\x8b fake gzip payload');
    const bytes = buildPackage({
      payloadDigest: false,
      main: (base) => [
        ...base,
        { tag: T.RPMTAG_PAYLOADDIGEST, type: SA, value: [hex('sha256', payload)] },
        { tag: T.RPMTAG_PAYLOADDIGESTALGO, type: I32, value: [10] },
      ],
    });
    expect(parseRpm(bytes, { verifyPayload: true }).verified.payload).toContain('PAYLOADDIGEST');
  });

  it('accepts the HEADERIMAGE tag some old packages have in their signature region trailer', () => {
    const l = layout(good);
    const trailer = l.sigData + l.sigDl - 16;
    const bytes = patched(good, (b) => b.writeInt32BE(T.RPMTAG_HEADERIMAGE, trailer));
    expect(parseRpm(bytes).package.name).toBe('demo');
  });

  it('reads a file header by header and streams its payload through the digests', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rpmgate-reader-'));
    try {
      const file = path.join(dir, 'demo.rpm');
      const big = buildPackage({ payload: Buffer.alloc(3 * 1024 * 1024 + 17, 7) });
      writeFileSync(file, big);
      const parsed = await readRpmFile(file);
      expect(parsed.verified.payload).toEqual(['MD5', 'PAYLOADDIGEST', 'SIZE']);
      writeFileSync(file, patched(big, (b) => (b[b.length - 5]! ^= 1)));
      await expect(readRpmFile(file)).rejects.toThrow(/digest mismatch/);
      writeFileSync(file, big.subarray(0, big.length - 1));
      await expect(readRpmFile(file)).rejects.toThrow(/size mismatch/);
      // A main header claiming 200 MB in a small file: refused after reading what is there.
      writeFileSync(file, patched(good, (b) => b.writeUInt32BE(200_000_000, layout(good).main + 12)));
      await expect(readRpmFile(file)).rejects.toThrow(/truncated RPM: the main header ends at byte \d+ but the file has \d+ bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
