// Every RPM of the shared corpus (RPMS.tsv) through the reader: what rpm 4.18 read must parse, with
// the NEVRA, source RPM and compressor rpm printed; signatures and digests as the corpus recorded
// them; the truncated package and the delta RPM recognised for what they are.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { parseRpm, readRpmFile, type ParsedRpm } from '../../../common/rpm/reader.ts';
import { corpusAvailable, corpusPath, readCorpusTsv } from '../../support/corpus.ts';
import { unreadableCorpusRpms } from '../../support/corpus-rpms.ts';

const skip = !corpusAvailable;
const allRows = skip ? [] : readCorpusTsv('RPMS.tsv');
/** Every row but the one whose header signature rpm cannot parse (refused below, as rpm refuses it). */
const rows = allRows.filter((row) => !unreadableCorpusRpms.has(row.path!));
const TRUNCATED = 'rpm/RPMS/hello-2.0-1.x86_64-corrupted.rpm';
const DRPM = 'libdnf/hawkey/yum/drpms/tour-4-5_4-6.noarch.drpm';

/** The corpus `features` column as key → value ("sigs=RSAHEADER,PGP" → sigs: "RSAHEADER,PGP"). */
function features(row: Record<string, string>): Map<string, string> {
  return new Map(
    (row.features ?? '').split(' ').map((item) => {
      const eq = item.indexOf('=');
      return eq < 0 ? [item, ''] : [item.slice(0, eq), item.slice(eq + 1)];
    }),
  );
}

/** rpm_qf, or rpm_qf_nosig for the two files rpm reads only with --nosignature. */
function rpmFacts(row: Record<string, string>) {
  const [name, epoch, version, release, arch, sourcerpm, compressor] = (row.rpm_qf || row.rpm_qf_nosig)!.split(' ');
  return { name, epoch, version, release, arch, sourcerpm, compressor };
}

function expectMatchesRpm(parsed: ParsedRpm, row: Record<string, string>): void {
  const facts = rpmFacts(row);
  const pkg = parsed.package;
  const isSource = facts.sourcerpm === '(none)';
  expect({
    name: pkg.name,
    epoch: pkg.epoch === null ? '(none)' : String(pkg.epoch),
    version: pkg.version,
    release: pkg.release,
    arch: pkg.arch,
    isSource: pkg.isSource,
    sourcerpm: pkg.sourcerpm ?? '(none)',
    compressor: parsed.payloadCompressor ?? '(none)',
  }).toEqual({
    name: facts.name,
    epoch: facts.epoch,
    version: facts.version,
    release: facts.release,
    arch: isSource ? 'src' : facts.arch,
    isSource,
    sourcerpm: facts.sourcerpm,
    compressor: facts.compressor,
  });
  expect(pkg.isSource).toBe(row.kind === 'srpm');
}

describe.skipIf(skip)('corpus RPMs (RPMS.tsv)', () => {
  it('lists the corpus', () => {
    expect(rows.length).toBeGreaterThan(200);
  });

  it('refuses what rpm -qp refuses for its header signature, for the reason rpm gives', () => {
    for (const row of allRows.filter((r) => unreadableCorpusRpms.has(r.path!))) {
      // rpm_stderr: "... Header RSA signature: BAD (package tag 268: invalid OpenPGP signature) ..."
      const [, rpmReason] = /(Header \w+ signature: BAD \(package tag \d+: invalid OpenPGP signature)/.exec(row.rpm_stderr!)!;
      expect(() => parseRpm(readFileSync(corpusPath(row.path!))), row.path).toThrow(rpmReason);
    }
  });

  it('parses the headers of every package rpm reads, with rpm\'s NEVRA, source RPM and compressor', () => {
    for (const row of rows) {
      const parsed = parseRpm(readFileSync(corpusPath(row.path!)));
      expectMatchesRpm(parsed, row);
      expect(parsed.package.sizes.package).toBe(Number(row.size));
    }
  });

  it('reads every package file and verifies its payload, except the truncated one', async () => {
    for (const row of rows) {
      if (row.path === TRUNCATED) continue;
      const parsed = await readRpmFile(corpusPath(row.path!));
      expectMatchesRpm(parsed, row);
      const recordsPayloadFacts = parsed.digests.some((d) => d.range !== 'header') || parsed.recordedSizes.headerAndPayload !== null;
      expect(recordsPayloadFacts).toBe(true);
      expect(parsed.verified.payload.length).toBeGreaterThan(0);
    }
  });

  it('refuses the package whose payload was cut off, although rpm -qp reads its headers', async () => {
    await expect(readRpmFile(corpusPath(TRUNCATED))).rejects.toThrow(RpmFormatError);
    await expect(readRpmFile(corpusPath(TRUNCATED))).rejects.toThrow(/payload/);
    const bytes = readFileSync(corpusPath(TRUNCATED));
    expect(() => parseRpm(bytes, { verifyPayload: true })).toThrow(RpmFormatError);
    expect(parseRpm(bytes).package.name).toBe('hello');
  });

  it('flags the delta RPM (PAYLOADFORMAT drpm) and nothing else', () => {
    for (const row of rows) {
      const parsed = parseRpm(readFileSync(corpusPath(row.path!)));
      expect(parsed.isDeltaRpm, row.path).toBe(row.kind === 'drpm');
      expect(parsed.payloadFormat, row.path).toBe(row.kind === 'drpm' ? 'drpm' : 'cpio');
    }
    expect(rows.some((row) => row.path === DRPM)).toBe(true);
  });

  it('knows the format of each package: v3 without a region, v6 with RPMFORMAT 6', () => {
    for (const row of rows) {
      const parsed = parseRpm(readFileSync(corpusPath(row.path!)));
      expect(parsed.format, row.path).toBe(features(row).get('rpmformat'));
      expect(parsed.package.headerRange.start).toBe(parsed.mainHeader.offset);
      expect(parsed.payloadOffset).toBe(parsed.package.headerRange.end);
    }
  });

  it('finds the signatures and header digests the corpus recorded for each package', () => {
    const digestNames: Record<string, string> = {
      MD5: 'md5',
      SHA1HEADER: 'sha1hdr',
      SHA256HEADER: 'sha256hdr',
      SHA3_256HEADER: 'sha3-256hdr',
    };
    for (const row of rows) {
      const parsed = parseRpm(readFileSync(corpusPath(row.path!)));
      const counts = new Map<string, number>();
      for (const signature of parsed.signatures) counts.set(signature.name, (counts.get(signature.name) ?? 0) + 1);
      // The corpus writes OPENPGP (rpm 6, a list of signatures) always with its count.
      const sigs = [...counts].map(([name, n]) => (n > 1 || name === 'OPENPGP' ? `${name}x${n}` : name));
      const recorded = features(row).get('sigs')!;
      expect(sigs.sort(), row.path).toEqual(recorded === 'none' ? [] : recorded.split(',').sort());
      const digests = parsed.digests.filter((d) => d.name in digestNames).map((d) => digestNames[d.name]);
      expect(digests.sort(), row.path).toEqual(features(row).get('digests')!.split(',').sort());
    }
  });

  it('reports the non-UTF-8 text it repaired, and only there', () => {
    const repaired = rows
      .map((row) => ({ path: row.path!, tags: parseRpm(readFileSync(corpusPath(row.path!))).nonUtf8Tags }))
      .filter((item) => item.tags.length > 0);
    expect(repaired).toEqual([
      { path: 'createrepo_c/packages/balicek-iso88591-1.1.1-1.x86_64.rpm', tags: [1004, 1005, 1049, 1081, 1082] },
      { path: 'createrepo_c/packages/balicek-iso88592-1.1.1-1.x86_64.rpm', tags: [1004, 1005, 1047, 1049, 1081, 1082] },
      { path: 'pulp-fixtures/rpm/assets-non-utf-8/rpm-with-non-utf-8-1-1.fc25.noarch.rpm', tags: [1005] },
      { path: 'rpmlint/source/non-utf8-1.0-1.el5.centos.src.rpm', tags: [1004, 1005, 1081] },
    ]);
  });

  it('repairs ISO-8859-1 text as createrepo_c does (0xC0-0xFF kept as Latin-1, 0x80-0xBF dropped)', () => {
    const iso1 = parseRpm(readFileSync(corpusPath('createrepo_c/packages/balicek-iso88591-1.1.1-1.x86_64.rpm'))).package;
    expect(iso1.summary).toBe('Balicek s "àáâãäåç"');
    expect(iso1.description).toBe('divny o: ö "àáâãäåç" divny u: ü');
    expect(iso1.requires.map((d) => d.name)).toContain('àáâãäåç');
    expect(iso1.changelogs[0]!.author).toBe('Tomás Mlcoch <tmlcoch@redhat.com> - 1.1.1-1');
    // ISO-8859-2 "Balíček" is not Latin-1: createrepo_c writes "Balíèek", and so do we.
    const iso2 = parseRpm(readFileSync(corpusPath('createrepo_c/packages/balicek-iso88592-1.1.1-1.x86_64.rpm'))).package;
    expect(iso2.provides.map((d) => d.name)).toContain('Balíèek');
    // 0xB9 (š in ISO-8859-2) is in the dropped 0x80-0xBF range.
    expect(iso2.changelogs[0]!.author).toBe('Tomá Mlèoch <tmlcoch@redhat.com> - 1.1.1-1');
    const utf8 = parseRpm(readFileSync(corpusPath('createrepo_c/packages/balicek-utf8-1.1.1-1.x86_64.rpm')));
    expect(utf8.nonUtf8Tags).toEqual([]);
    expect(utf8.package.summary).toContain('ěščřžýáíéů');
  });

  it('takes the C-locale string of I18N tags (rpm-i18n carries five translations)', () => {
    const parsed = parseRpm(readFileSync(corpusPath('rpm-rs/RPMS/v6/rpm-i18n-1.0-1.noarch.rpm')));
    expect(parsed.package.summary).toBe('Test RPM internationalization features');
  });

  it('reads the v3 package (no immutable region) with its old-style file list', () => {
    const parsed = parseRpm(readFileSync(corpusPath('rpm/RPMS/hello-1.0-1.x86_64.rpm-v3')));
    expect(parsed.format).toBe('v3');
    expect(parsed.mainHeader.header.regionTag).toBeNull();
    expect(parsed.package.files).toEqual([
      { path: '/usr/local/bin/hello', type: 'file' },
      { path: '/usr/share/doc/hello', type: 'dir' },
      { path: '/usr/share/doc/hello/FAQ', type: 'file' },
    ]);
    // rpm (and so createrepo_c) appends "hello = 1.0-1" to v3 headers even though it is there.
    expect(parsed.package.provides).toEqual([
      { name: 'hello', flags: 8, evr: '1.0-1' },
      { name: 'hello(x86-64)', flags: 8, evr: '1.0-1' },
      { name: 'hello', flags: 8, evr: '1.0-1' },
    ]);
  });

  it('exposes the raw parts the signing code needs', () => {
    const bytes = readFileSync(corpusPath('rpm/RPMS/hello-2.0-1.x86_64-signed.rpm'));
    const parsed = parseRpm(bytes);
    expect(parsed.signatureHeader.offset).toBe(96);
    expect(parsed.signatureHeader.offset + parsed.signatureHeader.paddedSize).toBe(parsed.mainHeader.offset);
    expect(parsed.signatureHeader.paddedSize % 8).toBe(0);
    expect(Buffer.from(parsed.mainHeader.bytes)).toEqual(bytes.subarray(parsed.mainHeader.offset, parsed.payloadOffset));
    expect(parsed.signatures.map((s) => [s.name, s.range])).toEqual([
      ['RSAHEADER', 'header'],
      ['PGP', 'header+payload'],
    ]);
    expect(parsed.signatures[0]!.packet[0]! & 0x80).toBe(0x80); // an OpenPGP packet header
    expect(parsed.digests.map((d) => d.name)).toEqual(['SHA1HEADER', 'SHA256HEADER', 'MD5', 'PAYLOADDIGEST']);
    const v6 = parseRpm(readFileSync(corpusPath('createrepo_c/packages/empty-signed-v6-multiple-0-0.x86_64.rpm')));
    expect(v6.signatures.filter((s) => s.name === 'OPENPGP')).toHaveLength(2);
  });
});
