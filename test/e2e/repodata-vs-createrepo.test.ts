// The repodata rpmgate serves, compared field by field with what Debian's createrepo_c writes for the
// very files rpmgate serves: every fixture RPM and every valid corpus RPM, downloaded back from the
// server at the hrefs of primary.xml and indexed by createrepo_c.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepomd, readRepodata, type ParsedRepomd } from '../../common/repodata/parse.ts';
import type { RepodataKind } from '../../common/repodata/document.ts';
import { readRpmFile } from '../../common/rpm/reader.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { corpusAvailable } from '../support/corpus.ts';
import { corpusRpms } from '../support/corpus-rpms.ts';
import { runCreaterepo } from '../support/createrepo.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let workDir: string;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer(), buildFixtures()]);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-compare-'));
  const uploader = await server.clientFor('integ');
  const files = [...fixtures.packages.map((p) => p.path), ...corpusRpms().filter((rpm) => !rpm.damaged && !rpm.unsignable && rpm.kind !== 'drpm').map((rpm) => rpm.path)];
  for (const file of files) {
    // Conflicting NEVRAs in the corpus answer 409: the first stored wins, as the contract says.
    await uploader.request('POST', '/api/v1/packages', { body: await readFile(file), accept: [409] });
  }
});
afterAll(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

interface ServedRepo {
  repomd: ParsedRepomd;
  documents: Record<RepodataKind, Buffer>;
}

/** Fetches a repository's repomd.xml and the files it names, checking every checksum and size it states. */
async function fetchRepo(baseUrl: string): Promise<ServedRepo> {
  const repomd = await parseRepomd(await fetchBytes(`${baseUrl}repodata/repomd.xml`));
  const documents = {} as Record<RepodataKind, Buffer>;
  for (const kind of ['primary', 'filelists', 'other'] as const) {
    const record = repomd.records.find((r) => r.type === kind)!;
    const bytes = await fetchBytes(baseUrl + record.href);
    const open = gunzipSync(bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(record.checksum);
    expect(bytes.length).toBe(record.size);
    expect(createHash('sha256').update(open).digest('hex')).toBe(record.openChecksum);
    expect(open.length).toBe(record.openSize);
    expect(record.href).toBe(`repodata/${record.checksum}-${kind}.xml.gz`);
    documents[kind] = bytes;
  }
  return { repomd, documents };
}

/** Downloads every package primary.xml names into dir/<href>, with the file time primary.xml states. */
async function downloadPackages(baseUrl: string, primary: Buffer, dir: string) {
  const { entries } = await readRepodata('primary', primary);
  const inputs: { source: string; name: string }[] = [];
  for (const entry of entries.values()) {
    const href = entry.location.href!;
    const bytes = await fetchBytes(baseUrl + href.split('/').map(encodeURIComponent).join('/'));
    expect(createHash('sha256').update(bytes).digest('hex'), href).toBe(entry.pkgid);
    const target = path.join(dir, path.basename(href));
    await writeFile(target, bytes);
    // createrepo_c writes the file's mtime as <time file=...>; give it the time rpmgate states.
    const fileTime = Number(entry.time.file);
    await utimes(target, fileTime, fileTime);
    inputs.push({ source: target, name: path.basename(href) });
  }
  return inputs;
}

async function compareWithCreaterepo(baseUrl: string, label: string) {
  const served = await fetchRepo(baseUrl);
  const dir = path.join(workDir, label);
  await mkdir(dir, { recursive: true });
  const inputs = await downloadPackages(baseUrl, served.documents.primary, dir);
  const hrefByPkgid = new Map(
    [...(await readRepodata('primary', served.documents.primary)).entries].map(([pkgid, entry]) => [pkgid, path.basename(entry.location.href!)]),
  );
  const reference = await runCreaterepo(inputs);
  try {
    for (const kind of ['primary', 'filelists', 'other'] as const) {
      const ours = await readRepodata(kind, served.documents[kind]);
      const theirs = await readRepodata(kind, await readFile(reference[kind]));
      // createrepo_c refuses a package with control characters in its text ("Forbidden control chars
      // found"); rpmgate serves it with those characters dropped, as XML requires.
      const refusedByCreaterepo = [...ours.entries.keys()].filter((pkgid) => !theirs.entries.has(pkgid));
      for (const pkgid of refusedByCreaterepo) {
        const file = inputs.find((input) => path.basename(input.source) === hrefByPkgid.get(pkgid))!;
        expect(await hasControlCharacters(file.source), `createrepo_c skipped ${file.name}`).toBe(true);
      }
      expect(theirs.entries.size, kind).toBe(ours.entries.size - refusedByCreaterepo.length);
      for (const [pkgid, entry] of theirs.entries) {
        // createrepo_c ran on a flat directory; rpmgate places packages under Packages/.
        if ('location' in entry) entry.location = { ...entry.location, href: `Packages/${entry.location.href}` };
        expect(ours.entries.get(pkgid), `${label} ${kind} ${pkgid}`).toEqual(entry);
      }
    }
    return served;
  } finally {
    await reference.cleanup();
  }
}

async function hasControlCharacters(file: string): Promise<boolean> {
  const { package: pkg } = await readRpmFile(file);
  const texts = [pkg.summary, pkg.description, pkg.url, pkg.license, pkg.vendor, pkg.group, pkg.packager, pkg.buildhost,
    ...pkg.changelogs.flatMap((entry) => [entry.author, entry.text]), ...pkg.files.map((f) => f.path),
    ...(['provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances'] as const)
      .flatMap((kind) => pkg[kind].flatMap((dep) => [dep.name, dep.evr]))];
  return texts.some((text) => /[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(text));
}

describe('repodata compared with createrepo_c', () => {
  it('a set repository holding every fixture and corpus package has the same entries, field by field', async () => {
    const { body: packages } = await server.admin.get<{ nevra: string; source: boolean }[]>('/api/v1/packages?limit=10000');
    const binaries = packages.filter((p) => !p.source).map((p) => p.nevra);
    expect(binaries.length).toBeGreaterThan(corpusAvailable ? 100 : 10);
    const { status } = await server.admin.post('/api/v1/sets', { name: 'everything', version: '1', packages: binaries, allowUnresolved: true });
    expect(status).toBe(201);
    const served = await compareWithCreaterepo(`${server.url}/repo/set/everything/1/`, 'set-binary');
    expect((await readRepodata('primary', served.documents.primary)).packageCount).toBe(binaries.length);
  });

  it('the source sub-repository holds exactly the SRPMs, and matches createrepo_c', async () => {
    const served = await compareWithCreaterepo(`${server.url}/repo/set/everything/1/source/`, 'set-source');
    const { entries } = await readRepodata('primary', served.documents.primary);
    expect(entries.size).toBeGreaterThan(0);
    for (const entry of entries.values()) expect(entry.arch).toBe('src');
  });

  it('the integ level repository (everything not obsolete) matches createrepo_c', async () => {
    await compareWithCreaterepo(`${server.url}/repo/level/integ/`, 'level-integ');
  });

  it('answers the same repomd.xml while nothing changes; after a change the old files stay fetchable', async () => {
    const first = await fetchBytes(`${server.url}/repo/level/integ/repodata/repomd.xml`);
    expect((await fetchBytes(`${server.url}/repo/level/integ/repodata/repomd.xml`)).equals(first)).toBe(true);
    const pinned = await fetchBytes(`${server.url}/repo/set/everything/1/repodata/repomd.xml`);

    // A new set moves the level generation; a pinned set repository does not move.
    const { status } = await server.admin.post('/api/v1/sets', { name: 'tiny', version: '1', packages: [fixtures.byName('rg-epoch').nevra] });
    expect(status).toBe(201);
    expect((await fetchBytes(`${server.url}/repo/set/everything/1/repodata/repomd.xml`)).equals(pinned)).toBe(true);
    await fetchBytes(`${server.url}/repo/level/integ/repodata/repomd.xml`);
    for (const record of (await parseRepomd(first)).records) {
      expect((await fetch(`${server.url}/repo/level/integ/${record.href}`)).status, record.href).toBe(200);
    }
  });
});
