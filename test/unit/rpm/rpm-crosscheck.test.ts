// Field by field against the real rpm (Debian's 4.18): every corpus package is queried once with
// `rpm -qp --qf` (all packages in two invocations) and every field of the package model is compared
// with what rpm prints: descriptive tags, sizes, the eight dependency kinds with raw flags, the file
// list with createrepo_c's file types, and the changelog.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeHeaderText } from '../../../common/rpm/header-strings.ts';
import type { Dependency, FileType, RpmPackage } from '../../../common/rpm/package.ts';
import { parseRpm, type ParsedRpm } from '../../../common/rpm/reader.ts';
import * as T from '../../../common/rpm/tags.ts';
import { corpusAvailable, corpusPath, readCorpusTsv } from '../../support/corpus.ts';
import { unreadableCorpusRpms } from '../../support/corpus-rpms.ts';
import { queryRpmFiles, rpmAvailable } from '../../support/rpm-query.ts';
import { toolsRequired } from '../../support/requirements.ts';

// Literal control characters as separators: rpm copies them through, header text never holds them.
const FIELD = '\x1f';
const ITEM = '\x1c';
const PART = '\x1d';

const scalarTags = [
  'NAME', 'EPOCH', 'VERSION', 'RELEASE', 'ARCH', 'SOURCERPM', 'SUMMARY', 'DESCRIPTION', 'URL', 'LICENSE',
  'VENDOR', 'GROUP', 'PACKAGER', 'BUILDHOST', 'BUILDTIME', 'LONGSIZE', 'LONGARCHIVESIZE',
] as const;
const dependencyKinds = [
  ['provides', 'PROVIDE'],
  ['requires', 'REQUIRE'],
  ['conflicts', 'CONFLICT'],
  ['obsoletes', 'OBSOLETE'],
  ['recommends', 'RECOMMEND'],
  ['suggests', 'SUGGEST'],
  ['supplements', 'SUPPLEMENT'],
  ['enhances', 'ENHANCE'],
] as const;

const queryFormat = [
  ...scalarTags.map((tag) => `%{${tag}}`),
  ...dependencyKinds.map(([, tag]) => `[%{${tag}NAME}${PART}%{${tag}FLAGS}${PART}%{${tag}VERSION}${ITEM}]`),
  `[%{FILENAMES}${PART}%{FILEMODES}${PART}%{FILEFLAGS}${ITEM}]`,
  `[%{CHANGELOGTIME}${PART}%{CHANGELOGNAME}${PART}%{CHANGELOGTEXT}${ITEM}]`,
].join(FIELD);

/** Header text as the reader decodes it, from the raw bytes rpm printed. */
function text(bytes: Buffer): string {
  return decodeHeaderText(bytes, 0, bytes.length).text;
}

function split(bytes: Buffer, separator: string): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(separator, start); at >= 0; at = bytes.indexOf(separator, start)) {
    parts.push(bytes.subarray(start, at));
    start = at + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/** A [...] iteration: items end with ITEM, parts of an item are separated by PART. */
function items(bytes: Buffer): Buffer[][] {
  const list = split(bytes, ITEM);
  list.pop(); // after the last ITEM
  return list.map((item) => split(item, PART));
}

/** rpm prints "(none)" for an absent tag. */
function orNone(value: string | number | null): string {
  return value === null || value === '' ? '(none)' : String(value);
}

/** createrepo_c's file type (src/parsehdr.c): S_ISDIR first, then RPMFILE_GHOST. */
function createrepoFileType(mode: number, flags: number): FileType {
  if ((mode & 0o170000) === 0o040000) return 'dir';
  if (flags & 64) return 'ghost';
  return 'file';
}

interface Case {
  path: string;
  parsed: ParsedRpm;
  fields: Buffer[];
}

const skip = !corpusAvailable || (!(await rpmAvailable()) && !toolsRequired);
if (skip) console.warn('\n*** rpm or the corpus is missing: the rpm cross-check is SKIPPED ***\n');

describe.skipIf(skip)('the reader against rpm -qp --qf, field by field, for every corpus package', () => {
  const cases: Case[] = [];

  beforeAll(async () => {
    const paths = readCorpusTsv('RPMS.tsv')
      .map((row) => row.path!)
      .filter((path) => !unreadableCorpusRpms.has(path));
    const records = await queryRpmFiles(paths.map(corpusPath), queryFormat);
    paths.forEach((path, i) => {
      const fields = split(records[i]!, FIELD);
      expect(fields.length, path).toBe(scalarTags.length + dependencyKinds.length + 2);
      cases.push({ path, parsed: parseRpm(readFileSync(corpusPath(path))), fields });
    });
  });

  function scalar(c: Case, tag: (typeof scalarTags)[number]): string {
    return text(c.fields[scalarTags.indexOf(tag)]!);
  }

  it('queried every package', () => {
    expect(cases.length).toBeGreaterThan(200);
  });

  it('has rpm\'s NEVRA, source RPM and descriptive tags', () => {
    for (const c of cases) {
      const pkg = c.parsed.package;
      const header = c.parsed.mainHeader.header;
      const asRpm = (tag: number, value: string): string => (header.has(tag) ? value : '(none)');
      expect(
        {
          NAME: pkg.name,
          EPOCH: orNone(pkg.epoch),
          VERSION: pkg.version,
          RELEASE: pkg.release,
          ARCH: pkg.isSource ? scalar(c, 'ARCH') : pkg.arch,
          SOURCERPM: orNone(pkg.sourcerpm),
          SUMMARY: asRpm(T.RPMTAG_SUMMARY, pkg.summary),
          DESCRIPTION: asRpm(T.RPMTAG_DESCRIPTION, pkg.description),
          URL: asRpm(T.RPMTAG_URL, pkg.url),
          LICENSE: asRpm(T.RPMTAG_LICENSE, pkg.license),
          VENDOR: asRpm(T.RPMTAG_VENDOR, pkg.vendor),
          GROUP: header.has(T.RPMTAG_GROUP) ? pkg.group : 'Unspecified', // rpm's groupTag default
          PACKAGER: asRpm(T.RPMTAG_PACKAGER, pkg.packager),
          BUILDHOST: asRpm(T.RPMTAG_BUILDHOST, pkg.buildhost),
          BUILDTIME: asRpm(T.RPMTAG_BUILDTIME, String(pkg.buildtime)),
        },
        c.path,
      ).toEqual(Object.fromEntries(scalarTags.slice(0, 15).map((tag) => [tag, scalar(c, tag)])));
    }
  });

  it('has rpm\'s installed and archive sizes (0 where rpm has none, as createrepo_c writes)', () => {
    for (const c of cases) {
      const { sizes } = c.parsed.package;
      const header = c.parsed.mainHeader.header;
      const rpmInstalled = scalar(c, 'LONGSIZE');
      expect(rpmInstalled === '(none)' ? 0 : Number(rpmInstalled), c.path).toBe(sizes.installed);
      expect(rpmInstalled === '(none)', c.path).toBe(!header.has(T.RPMTAG_SIZE) && !header.has(T.RPMTAG_LONGSIZE));
      const rpmArchive = scalar(c, 'LONGARCHIVESIZE');
      expect(sizes.archive, c.path).toBe(rpmArchive === '(none)' ? 0 : Number(rpmArchive));
    }
  });

  it('has rpm\'s dependencies of all eight kinds, names, raw flags and versions in header order', () => {
    let total = 0;
    for (const c of cases) {
      dependencyKinds.forEach(([kind], i) => {
        const expected: Dependency[] = items(c.fields[scalarTags.length + i]!).map(([name, flags, evr]) => ({
          name: text(name!),
          flags: Number(text(flags!)),
          evr: text(evr!),
        }));
        expect(c.parsed.package[kind as keyof RpmPackage], `${c.path} ${kind}`).toEqual(expected);
        total += expected.length;
      });
    }
    expect(total).toBeGreaterThan(2000);
  });

  it('has rpm\'s file list, typed as createrepo_c types it', () => {
    let total = 0;
    for (const c of cases) {
      const expected = items(c.fields[scalarTags.length + dependencyKinds.length]!).map(([path, mode, flags]) => ({
        path: text(path!),
        type: createrepoFileType(Number(text(mode!)), Number(text(flags!))),
      }));
      expect(c.parsed.package.files, c.path).toEqual(expected);
      total += expected.length;
    }
    expect(total).toBeGreaterThan(2000);
  });

  it('has rpm\'s changelog, newest first', () => {
    for (const c of cases) {
      const expected = items(c.fields[scalarTags.length + dependencyKinds.length + 1]!).map(([time, author, body]) => ({
        time: Number(text(time!)),
        author: text(author!),
        text: text(body!),
      }));
      expect(c.parsed.package.changelogs, c.path).toEqual(expected);
    }
  });
});
