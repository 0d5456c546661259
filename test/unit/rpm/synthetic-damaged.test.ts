// Packages written by the header writer, then damaged on purpose, one rule at a time: each damaged
// file must be refused with RpmFormatError and a message naming the problem. Where rpm's own checks
// (lib/rpmlead.c, lib/header.c) cover the rule, the real rpm must refuse the same file; where the
// reader is deliberately stricter than rpm (ambiguous or inconsistent headers), that is marked.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRpm } from '../../../common/rpm/reader.ts';
import * as T from '../../../common/rpm/tags.ts';
import { queryRpmFiles, rpmAvailable } from '../../support/rpm-query.ts';
import { runTool } from '../../support/rpm-tools.ts';
import { toolsRequired } from '../../support/requirements.ts';
import { S, SA, I32, I16, buildPackage, layout, mainEntry, patched, expectRefused } from '../../support/synthetic-rpm.ts';

const good = buildPackage();

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
