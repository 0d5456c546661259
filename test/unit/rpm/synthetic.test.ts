// Packages written by the header writer, then damaged on purpose, one rule at a time: each damaged
// file must be refused with RpmFormatError and a message naming the problem. Where rpm's own checks
// (lib/rpmlead.c, lib/header.c) cover the rule, the real rpm must refuse the same file; where the
// reader is deliberately stricter than rpm (ambiguous or inconsistent headers), that is marked.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { writeHeader, writeLead, type HeaderEntryInput } from '../../../common/rpm/header-writer.ts';
import { parseRpm, readRpmFile } from '../../../common/rpm/reader.ts';
import * as T from '../../../common/rpm/tags.ts';
import { queryRpmFiles, rpmAvailable } from '../../support/rpm-query.ts';
import { runTool } from '../../support/rpm-tools.ts';
import { toolsRequired } from '../../support/requirements.ts';

const S = T.RPM_STRING_TYPE;
const SA = T.RPM_STRING_ARRAY_TYPE;
const I18N = T.RPM_I18NSTRING_TYPE;
const I32 = T.RPM_INT32_TYPE;
const I16 = T.RPM_INT16_TYPE;

const baseMain: HeaderEntryInput[] = [
  { tag: T.RPMTAG_HEADERI18NTABLE, type: SA, value: ['C'] },
  { tag: T.RPMTAG_NAME, type: S, value: 'demo' },
  { tag: T.RPMTAG_VERSION, type: S, value: '1.2' },
  { tag: T.RPMTAG_RELEASE, type: S, value: '3.el9' },
  { tag: T.RPMTAG_EPOCH, type: I32, value: [2] },
  { tag: T.RPMTAG_SUMMARY, type: I18N, value: ['A demo package'] },
  { tag: T.RPMTAG_DESCRIPTION, type: I18N, value: ['Demo.\nTwo lines.'] },
  { tag: T.RPMTAG_BUILDTIME, type: I32, value: [1700000000] },
  { tag: T.RPMTAG_BUILDHOST, type: S, value: 'builder.example' },
  { tag: T.RPMTAG_SIZE, type: I32, value: [4096] },
  { tag: T.RPMTAG_VENDOR, type: S, value: 'Example' },
  { tag: T.RPMTAG_LICENSE, type: S, value: 'MIT' },
  { tag: T.RPMTAG_PACKAGER, type: S, value: 'Jane <jane@example.org>' },
  { tag: T.RPMTAG_GROUP, type: I18N, value: ['Applications/System'] },
  { tag: T.RPMTAG_URL, type: S, value: 'https://example.org/' },
  { tag: 1021, type: S, value: 'linux' },
  { tag: T.RPMTAG_ARCH, type: S, value: 'x86_64' },
  { tag: T.RPMTAG_FILEMODES, type: I16, value: [0o100644, 0o040755, 0o100644, 0o040755] },
  { tag: T.RPMTAG_FILEFLAGS, type: I32, value: [0, 0, T.RPMFILE_GHOST, T.RPMFILE_GHOST] },
  { tag: T.RPMTAG_SOURCERPM, type: S, value: 'demo-1.2-3.el9.src.rpm' },
  { tag: T.RPMTAG_PROVIDENAME, type: SA, value: ['demo', 'demo(x86-64)'] },
  { tag: T.RPMTAG_PROVIDEFLAGS, type: I32, value: [8, 8] },
  { tag: T.RPMTAG_PROVIDEVERSION, type: SA, value: ['2:1.2-3.el9', '2:1.2-3.el9'] },
  { tag: T.RPMTAG_REQUIRENAME, type: SA, value: ['/bin/sh', 'libc.so.6()(64bit)', 'rpmlib(CompressedFileNames)'] },
  { tag: T.RPMTAG_REQUIREFLAGS, type: I32, value: [512 | 64, 16384, 16777226] },
  { tag: T.RPMTAG_REQUIREVERSION, type: SA, value: ['', '', '3.0.4-1'] },
  { tag: T.RPMTAG_CHANGELOGTIME, type: I32, value: [1690000000, 1680000000] },
  { tag: T.RPMTAG_CHANGELOGNAME, type: SA, value: ['Jane <jane@example.org> - 1.2-3', 'Joe - 1.1-1'] },
  { tag: T.RPMTAG_CHANGELOGTEXT, type: SA, value: ['- Newer', '- Older'] },
  { tag: T.RPMTAG_DIRINDEXES, type: I32, value: [0, 0, 1, 1] },
  { tag: T.RPMTAG_BASENAMES, type: SA, value: ['demo', 'demo.d', 'state', 'cache'] },
  { tag: T.RPMTAG_DIRNAMES, type: SA, value: ['/usr/bin/', '/var/lib/'] },
  { tag: T.RPMTAG_PAYLOADFORMAT, type: S, value: 'cpio' },
  { tag: T.RPMTAG_PAYLOADCOMPRESSOR, type: S, value: 'gzip' },
  { tag: T.RPMTAG_RECOMMENDNAME, type: SA, value: ['demo-extras'] },
  { tag: T.RPMTAG_RECOMMENDVERSION, type: SA, value: ['1.0'] },
  { tag: T.RPMTAG_RECOMMENDFLAGS, type: I32, value: [12] },
];

interface BuildOptions {
  /** Main header entries (default baseMain); a function receives baseMain to change. */
  main?: HeaderEntryInput[] | ((base: HeaderEntryInput[]) => HeaderEntryInput[]);
  mainRegion?: 63 | null;
  sigRegion?: 62 | null;
  leadType?: 0 | 1;
  payload?: Buffer;
  /** Extra signature header entries, or replacements for the computed ones (by tag). */
  sig?: HeaderEntryInput[];
  /** Leave out the computed digests (SHA1HEADER, SHA256HEADER, MD5) and sizes. */
  noDigests?: boolean;
  /** Leave out these of the computed signature header entries. */
  omit?: number[];
  /** Add PAYLOADDIGEST (sha256) to the main header. */
  payloadDigest?: boolean;
}

function hex(algorithm: string, ...parts: Uint8Array[]): string {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** A well-formed package: lead, signature header with digests and sizes, main header, payload. */
function buildPackage(options: BuildOptions = {}): Buffer {
  const payload = options.payload ?? Buffer.from('\x1f\x8b fake gzip payload');
  let main = typeof options.main === 'function' ? options.main(baseMain) : (options.main ?? baseMain);
  if (options.payloadDigest ?? true) {
    main = [
      ...main,
      { tag: T.RPMTAG_PAYLOADDIGEST, type: SA, value: [hex('sha256', payload)] },
      { tag: T.RPMTAG_PAYLOADDIGESTALGO, type: I32, value: [8] },
    ];
  }
  const mainBytes = writeHeader(main, { region: options.mainRegion === undefined ? 63 : options.mainRegion });
  const computed: HeaderEntryInput[] = options.noDigests
    ? []
    : [
        { tag: T.RPMSIGTAG_SHA1, type: S, value: hex('sha1', mainBytes) },
        { tag: T.RPMSIGTAG_SHA256, type: S, value: hex('sha256', mainBytes) },
        { tag: T.RPMSIGTAG_SIZE, type: I32, value: [mainBytes.length + payload.length] },
        { tag: T.RPMSIGTAG_MD5, type: T.RPM_BIN_TYPE, value: createHash('md5').update(mainBytes).update(payload).digest() },
        { tag: T.RPMSIGTAG_PAYLOADSIZE, type: I32, value: [1234] },
      ];
  const extra = options.sig ?? [];
  const kept = computed.filter((entry) => !extra.some((e) => e.tag === entry.tag) && !(options.omit ?? []).includes(entry.tag));
  const sig = [...kept, ...extra];
  const sigBytes = writeHeader(sig, { region: options.sigRegion === undefined ? 62 : options.sigRegion, pad: true });
  return Buffer.concat([writeLead({ type: options.leadType ?? 0, name: 'demo-1.2-3.el9' }), sigBytes, mainBytes, payload]);
}

/** Offsets of a package's parts, read from its intros. */
function layout(bytes: Buffer) {
  const sigIl = bytes.readUInt32BE(96 + 8);
  const sigDl = bytes.readUInt32BE(96 + 12);
  const sigSize = 16 + 16 * sigIl + sigDl;
  const main = 96 + sigSize + ((8 - (sigSize % 8)) % 8);
  const il = bytes.readUInt32BE(main + 8);
  const dl = bytes.readUInt32BE(main + 12);
  const data = main + 16 + 16 * il;
  return { sig: 96, sigIl, sigDl, sigData: 96 + 16 + 16 * sigIl, main, il, dl, data, payload: data + dl };
}

/** The index position of `tag` in the main header. */
function mainEntry(bytes: Buffer, tag: number): { at: number; offset: number; count: number; type: number } {
  const l = layout(bytes);
  for (let i = 0; i < l.il; i++) {
    const at = l.main + 16 + 16 * i;
    if (bytes.readInt32BE(at) === tag) {
      return { at, type: bytes.readUInt32BE(at + 4), offset: bytes.readInt32BE(at + 8), count: bytes.readUInt32BE(at + 12) };
    }
  }
  throw new Error(`tag ${tag} not in the main header`);
}

function patched(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

/** Appends an entry after the signature region ("dribble"), as old rpmsign could leave it. */
function withSignatureDribble(bytes: Buffer, tag: number, type: number, data: Buffer, count: number): Buffer {
  const l = layout(bytes);
  const indexEnd = l.sigData;
  const dataBytes = bytes.subarray(l.sigData, l.sigData + l.sigDl);
  const align = type === I32 ? (4 - (l.sigDl % 4)) % 4 : 0;
  const entry = Buffer.alloc(16);
  entry.writeInt32BE(tag, 0);
  entry.writeUInt32BE(type, 4);
  entry.writeInt32BE(l.sigDl + align, 8);
  entry.writeUInt32BE(count, 12);
  const intro = Buffer.from(bytes.subarray(96, 112));
  intro.writeUInt32BE(l.sigIl + 1, 8);
  intro.writeUInt32BE(l.sigDl + align + data.length, 12);
  const size = 16 + 16 * (l.sigIl + 1) + l.sigDl + align + data.length;
  const sig = Buffer.concat([intro, bytes.subarray(112, indexEnd), entry, dataBytes, Buffer.alloc(align), data]);
  return Buffer.concat([bytes.subarray(0, 96), sig, Buffer.alloc((8 - (size % 8)) % 8), bytes.subarray(l.main)]);
}

function expectRefused(bytes: Uint8Array, message: RegExp, options: { verifyPayload?: boolean } = {}): void {
  let error: unknown;
  try {
    parseRpm(bytes, options);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(RpmFormatError);
  expect((error as Error).message).toMatch(message);
}

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

interface DamageCase {
  name: string;
  bytes: Buffer;
  message: RegExp;
  /** What rpm 4.18 does with the file: refuse it too, or accept it (the reader is stricter). */
  rpm: 'refuses' | 'accepts';
  /** rpm checks header digests only for these (others: --nosignature --nodigest, structure alone). */
  rpmDigests?: boolean;
  /** Whose verdict `rpm` is: rpm -qp (the default) or rpm -K --nosignature, which also reads the payload. */
  by?: 'rpm -qp' | 'rpm -K';
  verifyPayload?: boolean;
}

function damageCases(): DamageCase[] {
  const l = layout(good);
  const name = mainEntry(good, T.RPMTAG_NAME);
  const epoch = mainEntry(good, T.RPMTAG_EPOCH);
  const buildtime = mainEntry(good, T.RPMTAG_BUILDTIME);
  const summary = mainEntry(good, T.RPMTAG_SUMMARY);
  const sigTrailer = l.sigData + l.sigDl - 16;
  const mainTrailer = l.data + l.dl - 16;
  const v3 = buildPackage({ mainRegion: null, sigRegion: null, main: (base) => [...base, { tag: 5999, type: S, value: 'last' }] });
  const v3l = layout(v3);
  return [
    { name: 'empty file', bytes: Buffer.alloc(0), message: /not an RPM package: 0 bytes/, rpm: 'refuses' },
    { name: 'wrong lead magic', bytes: patched(good, (b) => (b[0] = 0x7f)), message: /lead magic/, rpm: 'refuses' },
    { name: 'lead version 2.0', bytes: patched(good, (b) => (b[4] = 2)), message: /unsupported RPM package version 2/, rpm: 'refuses' },
    { name: 'lead type 7', bytes: patched(good, (b) => b.writeUInt16BE(7, 6)), message: /invalid package type 7/, rpm: 'accepts' },
    { name: 'lead signature type 4', bytes: patched(good, (b) => b.writeUInt16BE(4, 78)), message: /illegal signature type 4/, rpm: 'refuses' },
    { name: 'truncated in the lead', bytes: good.subarray(0, 50), message: /truncated RPM: the lead needs 96 bytes but the file has 50/, rpm: 'refuses' },
    { name: 'wrong signature header magic', bytes: patched(good, (b) => (b[97] = 0)), message: /bad signature header magic at byte 96/, rpm: 'refuses' },
    { name: 'reserved magic bytes not zero', bytes: patched(good, (b) => (b[l.main + 5] = 1)), message: /bad main header magic/, rpm: 'refuses' },
    { name: '33 signature tags', bytes: patched(good, (b) => b.writeUInt32BE(33, 104)), message: /33 index entries, more than rpm's limit of 32/, rpm: 'refuses' },
    { name: 'main data over 256 MB', bytes: patched(good, (b) => b.writeUInt32BE(0x10000000, l.main + 12)), message: /more than rpm's limit/, rpm: 'refuses' },
    {
      name: 'truncated main header',
      bytes: good.subarray(0, l.data + 10),
      message: new RegExp(`truncated RPM: the main header ends at byte ${l.payload} but the file has ${l.data + 10} bytes`),
      rpm: 'refuses',
    },
    {
      name: 'truncated in the signature header or its padding',
      bytes: good.subarray(0, l.main - 1),
      message: l.main - 1 >= l.sigData + l.sigDl ? /truncated RPM: the signature header's padding to 8 bytes ends at byte/ : /truncated RPM: the signature header ends at byte/,
      rpm: 'refuses',
    },
    { name: 'no index entries', bytes: patched(good, (b) => b.writeUInt32BE(0, l.main + 8)), message: /no index entries|ends at byte/, rpm: 'refuses' },
    { name: 'region trailer names another tag', bytes: patched(good, (b) => b.writeInt32BE(T.RPMTAG_HEADERSIGNATURES, mainTrailer)), message: /region trailer is malformed/, rpm: 'refuses' },
    { name: 'region trailer offset not a whole entry', bytes: patched(good, (b) => b.writeInt32BE(-16 * l.il + 4, mainTrailer + 8)), message: /not a whole number/, rpm: 'refuses' },
    { name: 'main region not covering the whole header', bytes: patched(good, (b) => b.writeInt32BE(-16 * (l.il - 1), mainTrailer + 8)), message: /must cover the whole header/, rpm: 'refuses' },
    { name: 'signature region trailer outside the data', bytes: patched(good, (b) => b.writeInt32BE(l.sigDl, 96 + 16 + 8)), message: /outside the \d+-byte data store/, rpm: 'refuses' },
    { name: 'main header opens with HEADERIMAGE', bytes: patched(good, (b) => { b.writeInt32BE(61, l.main + 16); b.writeInt32BE(61, mainTrailer); }), message: /starts with region tag HEADERIMAGE \(61\)/, rpm: 'refuses' },
    { name: 'NULL entry type', bytes: patched(good, (b) => b.writeUInt32BE(0, name.at + 4)), message: /NULL entries/, rpm: 'refuses' },
    { name: 'unknown entry type 10', bytes: patched(good, (b) => b.writeUInt32BE(10, name.at + 4)), message: /unknown data type/, rpm: 'refuses' },
    { name: 'unaligned INT32 data', bytes: patched(good, (b) => b.writeInt32BE(epoch.offset + 2, epoch.at + 8)), message: /not aligned to 4 bytes/, rpm: 'refuses' },
    { name: 'overlapping data', bytes: patched(good, (b) => b.writeInt32BE(epoch.offset, buildtime.at + 8)), message: /overlaps the previous entry/, rpm: 'refuses' },
    { name: 'negative data offset', bytes: patched(good, (b) => b.writeInt32BE(-4, name.at + 8)), message: /data offset outside/, rpm: 'refuses' },
    { name: 'data offset past the store', bytes: patched(good, (b) => b.writeInt32BE(l.dl + 8, name.at + 8)), message: /data offset outside/, rpm: 'refuses' },
    { name: 'count 0', bytes: patched(good, (b) => b.writeUInt32BE(0, epoch.at + 12)), message: /count out of range/, rpm: 'refuses' },
    { name: 'count larger than the data store', bytes: patched(good, (b) => b.writeUInt32BE(0x7fffffff, epoch.at + 12)), message: /count out of range/, rpm: 'refuses' },
    { name: 'INT32 array running past the data', bytes: patched(good, (b) => b.writeUInt32BE(Math.floor(l.dl / 4), epoch.at + 12)), message: /run past the end|overlaps/, rpm: 'refuses' },
    { name: 'STRING with count 2', bytes: patched(good, (b) => b.writeUInt32BE(2, name.at + 12)), message: /STRING entry must have count 1/, rpm: 'refuses' },
    { name: 'string array longer than its strings', bytes: patched(good, (b) => b.writeUInt32BE(500, summary.at + 12)), message: /no NUL terminator|overlaps/, rpm: 'refuses' },
    {
      name: 'last string without NUL terminator (v3 header)',
      bytes: patched(v3, (b) => (b[v3l.payload - 1] = 0x41)),
      message: /has no NUL terminator before the end of the data store/,
      rpm: 'refuses',
    },
    { name: 'tag number below 100', bytes: patched(good, (b) => b.writeInt32BE(50, name.at)), message: /below 100/, rpm: 'refuses' },
    { name: 'a tag twice', bytes: patched(good, (b) => b.writeInt32BE(T.RPMTAG_VERSION, name.at)), message: /holds VERSION \(1001\) twice/, rpm: 'accepts' },
    { name: 'NAME stored as INT32', bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_NAME), { tag: T.RPMTAG_NAME, type: I32, value: [1] }] }), message: /rpm defines this tag as STRING/, rpm: 'refuses' },
    {
      name: 'unaccounted bytes in the data store (v3 header)',
      bytes: patched(v3, (b) => b.writeUInt32BE(v3l.dl + 4, v3l.main + 12)),
      message: /the entries account for \d+ bytes but the data store has \d+/,
      rpm: 'refuses',
    },
    { name: 'SHA256HEADER stored as BIN', bytes: buildPackage({ sig: [{ tag: T.RPMSIGTAG_SHA256, type: T.RPM_BIN_TYPE, value: Buffer.alloc(32) }] }), message: /Header SHA256 digest: BAD \(package tag 273: invalid type 7/, rpm: 'refuses', rpmDigests: true },
    { name: 'MD5 of 15 bytes', bytes: buildPackage({ sig: [{ tag: T.RPMSIGTAG_MD5, type: T.RPM_BIN_TYPE, value: Buffer.alloc(15) }] }), message: /MD5 digest: BAD \(package tag 1004: invalid size 15/, rpm: 'refuses', rpmDigests: true },
    { name: 'SHA256HEADER not hex', bytes: buildPackage({ sig: [{ tag: T.RPMSIGTAG_SHA256, type: S, value: 'z'.repeat(64) }] }), message: /Header SHA256 digest: BAD \(package tag 273: invalid hex\)/, rpm: 'refuses', rpmDigests: true },
    {
      name: 'FILESIGNATURES of the wrong type in the signature header',
      bytes: buildPackage({ sig: [{ tag: T.RPMSIGTAG_FILESIGNATURES, type: T.RPM_BIN_TYPE, value: Buffer.alloc(8) }] }),
      message: /invalid signature tag FILESIGNATURES \(5090\): signature header FILESIGNATURES \(274\) has type BIN, rpm reads STRING_ARRAY/,
      rpm: 'refuses',
    },
    {
      name: 'a signature tag in the main header',
      bytes: buildPackage({ main: (base) => [...base, { tag: T.RPMSIGTAG_RSA, type: T.RPM_BIN_TYPE, value: Buffer.alloc(8) }] }),
      message: /invalid signature tag RSAHEADER \(268\): the main header holds it/,
      rpm: 'refuses',
    },
    {
      name: 'a tag the reader does not read, of another type than rpm\'s (FILEMTIMES as INT16)',
      bytes: buildPackage({ main: (base) => [...base, { tag: 1034, type: I16, value: [1, 2, 3, 4] }] }),
      message: /FILEMTIMES \(1034\).*rpm defines this tag as INT32/,
      rpm: 'refuses',
    },
    {
      name: 'no digest of the payload (MD5 and PAYLOADDIGEST gone)',
      bytes: buildPackage({ payloadDigest: false, omit: [T.RPMSIGTAG_MD5] }),
      message: /no digest of the payload \(Payload SHA256 digest and MD5 digest: NOTFOUND\)/,
      rpm: 'refuses',
      by: 'rpm -K',
    },
    {
      name: 'no digest of the header (SHA1HEADER, SHA256HEADER and MD5 gone)',
      bytes: buildPackage({ omit: [T.RPMSIGTAG_SHA1, T.RPMSIGTAG_SHA256, T.RPMSIGTAG_MD5] }),
      message: /no digest of the header/,
      rpm: 'refuses',
      by: 'rpm -K',
    },
    {
      name: 'PAYLOADDIGEST stored as STRING',
      bytes: buildPackage({
        payloadDigest: false,
        main: (base) => [...base, { tag: T.RPMTAG_PAYLOADDIGEST, type: S, value: createHash('sha256').update('\x1f\x8b fake gzip payload').digest('hex') }],
      }),
      message: /Payload SHA256 digest: BAD \(package tag 5092: invalid type 6/,
      rpm: 'refuses',
      by: 'rpm -K',
    },
    {
      name: 'PAYLOADDIGESTALT alone, over a compressed payload',
      bytes: buildPackage({
        payloadDigest: false,
        main: (base) => [...base, { tag: T.RPMTAG_PAYLOADDIGESTALT, type: SA, value: [createHash('sha256').update('the uncompressed cpio').digest('hex')] }],
      }),
      message: /Payload SHA256 ALT digest: BAD \(without PAYLOADDIGEST/,
      rpm: 'refuses',
      by: 'rpm -K',
      verifyPayload: true,
    },
    { name: 'header digest mismatch', bytes: patched(good, (b) => (b[l.data + summary.offset]! ^= 0x20)), message: /SHA1HEADER digest mismatch/, rpm: 'refuses', rpmDigests: true },
    { name: 'payload digest mismatch', bytes: patched(good, (b) => (b[b.length - 1]! ^= 1)), message: /MD5 digest mismatch/, rpm: 'accepts', verifyPayload: true },
    { name: 'payload cut short', bytes: good.subarray(0, good.length - 3), message: /size mismatch/, rpm: 'accepts', verifyPayload: true },
    { name: 'no payload at all', bytes: good.subarray(0, l.payload), message: /no payload/, rpm: 'accepts', verifyPayload: true },
    {
      name: 'unknown payload digest algorithm',
      bytes: buildPackage({
        payloadDigest: false,
        main: (base) => [
          ...base,
          { tag: T.RPMTAG_PAYLOADDIGEST, type: SA, value: ['00'.repeat(32)] },
          { tag: T.RPMTAG_PAYLOADDIGESTALGO, type: I32, value: [99] },
        ],
      }),
      message: /names hash algorithm 99, but rpm 4 computes PAYLOADDIGEST as SHA-256/,
      rpm: 'accepts',
    },
    { name: 'OPENPGP value not base64', bytes: buildPackage({ sig: [{ tag: T.RPMSIGTAG_OPENPGP, type: SA, value: ['not base64!'] }] }), message: /not base64/, rpm: 'accepts' },
    {
      name: 'PROVIDEFLAGS shorter than PROVIDENAME',
      bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_PROVIDEFLAGS), { tag: T.RPMTAG_PROVIDEFLAGS, type: I32, value: [8] }] }),
      message: /PROVIDEFLAGS \(1112\) has 1 entries but PROVIDENAME \(1047\) has 2/,
      rpm: 'accepts',
    },
    {
      name: 'DIRINDEXES shorter than BASENAMES',
      bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_DIRINDEXES), { tag: T.RPMTAG_DIRINDEXES, type: I32, value: [0, 0, 1] }] }),
      message: /DIRINDEXES \(1116\) has 3 entries but BASENAMES \(1117\) has 4/,
      rpm: 'accepts',
    },
    {
      name: 'DIRINDEXES out of range',
      bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_DIRINDEXES), { tag: T.RPMTAG_DIRINDEXES, type: I32, value: [0, 0, 1, 2] }] }),
      message: /DIRINDEXES\[3\] is 2, outside the 2 DIRNAMES/,
      rpm: 'accepts',
    },
    {
      name: 'BASENAMES without DIRNAMES',
      bytes: buildPackage({ main: (base) => base.filter((e) => e.tag !== T.RPMTAG_DIRNAMES) }),
      message: /BASENAMES but no DIRNAMES/,
      rpm: 'accepts',
    },
    {
      name: 'FILEMODES count mismatch',
      bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_FILEMODES), { tag: T.RPMTAG_FILEMODES, type: I16, value: [0o644] }] }),
      message: /FILEMODES \(1030\) has 1 entries but BASENAMES \(1117\) has 4/,
      rpm: 'accepts',
    },
    {
      name: 'changelog without texts',
      bytes: buildPackage({ main: (base) => base.filter((e) => e.tag !== T.RPMTAG_CHANGELOGTEXT) }),
      message: /changelog without CHANGELOGTEXT/,
      rpm: 'accepts',
    },
    { name: 'no NAME', bytes: buildPackage({ main: (base) => base.filter((e) => e.tag !== T.RPMTAG_NAME) }), message: /no NAME \(1000\) tag/, rpm: 'accepts' },
    { name: 'empty VERSION', bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_VERSION), { tag: T.RPMTAG_VERSION, type: S, value: '' }] }), message: /VERSION \(1001\) is empty/, rpm: 'accepts' },
    {
      name: 'NAME not UTF-8',
      bytes: buildPackage({ main: (base) => [...base.filter((e) => e.tag !== T.RPMTAG_NAME), { tag: T.RPMTAG_NAME, type: S, value: Buffer.from([0x64, 0xe9, 0x6d, 0x6f]) }] }),
      message: /NAME \(1000\) is not valid UTF-8/,
      rpm: 'accepts',
    },
    {
      name: 'LONGSIZE beyond 2^53',
      bytes: buildPackage({ main: (base) => [...base, { tag: T.RPMTAG_LONGSIZE, type: T.RPM_INT64_TYPE, value: [2n ** 60n] }] }),
      message: /LONGSIZE \(5009\) value 1152921504606846976 is too large/,
      rpm: 'accepts',
    },
  ];
}

describe('damaged packages are refused with RpmFormatError and a clear message', () => {
  const cases = damageCases();

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expectRefused(c.bytes, c.message, { verifyPayload: c.verifyPayload ?? false });
  });
});

const skipRpm = !(await rpmAvailable()) && !toolsRequired;
if (skipRpm) console.warn('\n*** rpm is missing: the synthetic packages are not checked against rpm (SKIPPED) ***\n');

describe.skipIf(skipRpm)('rpm itself on the same synthetic packages', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpmgate-synthetic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the well-formed ones with the values the reader gives', async () => {
    const files = ['good', 'v3'].map((name) => path.join(dir, `${name}.rpm`));
    writeFileSync(files[0]!, good);
    writeFileSync(files[1]!, buildPackage({ mainRegion: null, sigRegion: null }));
    const out = await queryRpmFiles(files, '%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH} [%{FILENAMES}:%{FILEFLAGS},][%{PROVIDENAME} %{PROVIDEVERSION},]');
    const expected = files.map((file) => {
      const pkg = parseRpm(buildPackage(file.endsWith('v3.rpm') ? { mainRegion: null, sigRegion: null } : {})).package;
      const flags = [0, 0, 64, 64];
      return (
        `${pkg.name} ${pkg.epoch} ${pkg.version} ${pkg.release} ${pkg.arch} ` +
        pkg.files.map((f, i) => `${f.path}:${flags[i]},`).join('') +
        pkg.provides.map((d) => `${d.name} ${d.evr},`).join('')
      );
    });
    expect(out.map((b) => b.toString('utf8'))).toEqual(expected);
  });

  it('refuses the damaged ones the reader refuses on rpm\'s own grounds, and accepts the others', async () => {
    const cases = damageCases().filter((c) => !c.verifyPayload || c.by === 'rpm -K');
    const verdicts = await Promise.all(
      cases.map(async (c, i) => {
        const file = path.join(dir, `case-${i}.rpm`);
        writeFileSync(file, c.bytes);
        const accepted =
          c.by === 'rpm -K'
            ? (await runTool('rpm', ['-K', '--nosignature', '--dbpath', path.join(dir, 'db'), file], { ...process.env, HOME: dir })).code === 0
            : await queryRpmFiles([file], '%{NAME}', { checkDigests: c.rpmDigests ?? false }).then(
                () => true,
                () => false,
              );
        return [c.name, accepted ? 'accepts' : 'refuses'] as const;
      }),
    );
    expect(Object.fromEntries(verdicts)).toEqual(Object.fromEntries(cases.map((c) => [c.name, c.rpm])));
  });
});
