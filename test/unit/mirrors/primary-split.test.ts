// primary-split.ts against the real parser: every primary.xml of the corpus (createrepo_c's, dnf5's and
// libdnf's test repositories, other projects' tools) cut into packages gives the same pkgids and arches,
// in the same order, as a full parse, whatever the chunk sizes; each cut package, wrapped, parses to the
// same entry; documents that are not primary metadata, or end early, are refused.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { iterateRepodata, type PrimaryEntry } from '../../../common/repodata/parse.ts';
import { splitPrimary, wrapPackages, type PrimaryDocumentHead, type PrimaryPackageText } from '../../../server/mirrors/primary-split.ts';
import { corpusAvailable, corpusDir } from '../../support/corpus.ts';

function corpusPrimaries(): string[] {
  if (!corpusAvailable) return [];
  const found = execFileSync('find', [corpusDir, '-name', '*primary.xml*', '-not', '-name', '*.sqlite*', '-not', '-name', '*.zck'], { encoding: 'utf8' });
  // modified_repo_files holds deliberately broken copies (the createrepo_c golden test skips them too).
  return found.split('\n').filter((file) => file !== '' && !file.includes('modified_repo_files')).sort();
}

function readPlain(file: string): Buffer {
  const bytes = readFileSync(file);
  if (file.endsWith('.gz')) return gunzipSync(bytes);
  if (file.endsWith('.xz')) return execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 });
  if (file.endsWith('.zst')) return execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 28 });
  return bytes;
}

function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function split(bytes: Buffer, size: number): Promise<{ head: PrimaryDocumentHead | null; packages: PrimaryPackageText[] }> {
  let head: PrimaryDocumentHead | null = null;
  const packages: PrimaryPackageText[] = [];
  for await (const pkg of splitPrimary(chunked(bytes, size), (found) => (head = found))) packages.push(pkg);
  return { head, packages };
}

async function parse(bytes: Buffer): Promise<PrimaryEntry[]> {
  const entries: PrimaryEntry[] = [];
  for await (const entry of iterateRepodata('primary', bytes)) entries.push(entry);
  return entries;
}

const primaries = corpusPrimaries();

describe('splitPrimary on the corpus', () => {
  it('finds the corpus primaries', () => {
    if (!corpusAvailable) return;
    expect(primaries.length).toBeGreaterThanOrEqual(20);
  });

  it.each(primaries.map((file) => [file.slice(corpusDir.length + 1), file]))('%s: the same packages as a full parse, at any chunk size', async (_name, file) => {
    const bytes = readPlain(file);
    const entries = await parse(bytes);
    const expected = entries.map((entry) => ({ pkgid: entry.pkgid.toLowerCase(), arch: entry.arch }));
    for (const size of [7, 113, 4096, bytes.length]) {
      const { head, packages } = await split(bytes, size);
      expect(packages.map(({ pkgid, arch }) => ({ pkgid, arch })), `chunks of ${size}`).toEqual(expected);
      if (packages.length > 0) expect((await parse(wrapPackages(head!, packages))).map((entry) => entry.pkgid)).toEqual(entries.map((entry) => entry.pkgid));
    }
  });
});

describe('splitPrimary refuses', () => {
  const pkg = (pkgid: string) =>
    `<package type="rpm"><name>a</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">${pkgid}</checksum><location href="a.rpm"/></package>`;
  const root = '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">\n';

  it('a document that is not primary metadata', async () => {
    await expect(split(Buffer.from('<?xml version="1.0"?><filelists packages="0"></filelists>'), 5)).rejects.toThrow(/expected <metadata>/);
  });

  it('a document that ends before </metadata>', async () => {
    await expect(split(Buffer.from(`${root}${pkg('a'.repeat(64))}\n`), 11)).rejects.toThrow(/ends before <\/metadata>/);
  });

  it('a document cut inside a package', async () => {
    await expect(split(Buffer.from(`${root}${pkg('a'.repeat(64)).slice(0, 90)}`), 11)).rejects.toThrow(/ends inside a <package>/);
  });

  it('a package without a checksum', async () => {
    await expect(split(Buffer.from(`${root}<package type="rpm"><name>a</name><arch>noarch</arch></package></metadata>`), 9)).rejects.toThrow(/without a checksum/);
  });

  it('takes a well-formed one, pkgids lower-cased', async () => {
    const { packages } = await split(Buffer.from(`${root}${pkg('A'.repeat(64))}\n</metadata>\n`), 3);
    expect(packages.map((found) => found.pkgid)).toEqual(['a'.repeat(64)]);
  });
});
