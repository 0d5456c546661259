// The repodata rpmgate serves, compared field by field with what Debian's createrepo_c writes for the
// very files rpmgate serves: every fixture RPM and every valid corpus RPM, downloaded back from the
// server at the hrefs of primary.xml and indexed by createrepo_c; set and level repositories, binary
// and source, and repomd.xml itself.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRepomd, readRepodata, type ParsedRepomd } from '../../common/repodata/parse.ts';
import type { RepodataKind } from '../../common/repodata/document.ts';
import { readRpmFile } from '../../common/rpm/reader.ts';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { corpusAvailable } from '../support/corpus.ts';
import { corpusRpms } from '../support/corpus-rpms.ts';
import { recordFacts, repomdSkeleton, runCreaterepo, type CreaterepoResult } from '../support/createrepo.ts';
import { toolsRequired } from '../support/requirements.ts';
// Corpus packages go in as the reader and the signer take them: the house policies are off here.
import { checksOffPolicy } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let fixtures: FixtureSet;
let workDir: string;
/** Every package the server stored (201 or 200; a corpus NEVRA seen twice answers 409), by NEVRA. */
const stored = new Map<string, { source: boolean; sha256: string }>();
let corpusFiles = 0;

beforeAll(async () => {
  [server, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_POLICY_FILE: checksOffPolicy } }), buildFixtures()]);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-compare-'));
  const uploader = await server.clientFor('integ');
  const corpus = corpusRpms().filter((rpm) => !rpm.damaged && !rpm.unsignable && rpm.kind !== 'drpm').map((rpm) => rpm.path);
  corpusFiles = corpus.length;
  for (const file of [...fixtures.packages.map((p) => p.path), ...corpus]) {
    // Conflicting NEVRAs in the corpus answer 409: the first stored wins, as the contract says.
    const { status, body } = await uploader.request<{ nevra: string; source: boolean; sha256: string }>('POST', '/api/v1/packages', {
      body: await readFile(file),
      accept: [409],
    });
    if (status !== 409) stored.set(body.nevra, { source: body.source, sha256: body.sha256 });
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
  repomdXml: string;
  repomd: ParsedRepomd;
  documents: Record<RepodataKind, Buffer>;
}

/** Fetches a repository's repomd.xml and every file it names, checking every checksum and size it states. */
async function fetchRepo(baseUrl: string): Promise<ServedRepo> {
  const repomdXml = (await fetchBytes(`${baseUrl}repodata/repomd.xml`)).toString('utf8');
  const repomd = await parseRepomd(repomdXml);
  const documents = {} as Record<RepodataKind, Buffer>;
  for (const record of repomd.records) {
    const bytes = await fetchBytes(baseUrl + record.href);
    expect(record, `${baseUrl} ${record.type}`).toMatchObject(recordFacts(bytes, record.href));
    expect(record.href).toBe(`repodata/${record.checksum}-${record.type}.xml.gz`);
    if (record.type === 'primary' || record.type === 'filelists' || record.type === 'other') documents[record.type] = bytes;
  }
  return { repomdXml, repomd, documents };
}

/**
 * repomd.xml against createrepo_c's for the same packages: the same records (types, order, checksum
 * types), each consistent with the file it names on both sides, and the same document once checksums,
 * sizes, timestamps and the revision are blanked (namespaces, elements, attributes, layout).
 */
async function compareRepomd(served: ServedRepo, reference: CreaterepoResult, label: string) {
  const shape = (repomd: ParsedRepomd) => repomd.records.map((r) => ({ type: r.type, checksumType: r.checksumType, openChecksumType: r.openChecksumType }));
  expect(shape(served.repomd), label).toEqual(shape(reference.repomd));
  for (const record of reference.repomd.records) {
    expect(record, `createrepo_c ${label} ${record.type}`).toMatchObject(recordFacts(await readFile(path.join(reference.dir, record.href)), record.href));
  }
  expect(repomdSkeleton(served.repomdXml), label).toBe(repomdSkeleton(reference.repomdXml));
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
        // createrepo_c ran on a flat directory of the files as rpmgate names them; rpmgate places
        // each under Packages/<first 16 hex of its sha256, the pkgid>/, so that an href names its bytes.
        if ('location' in entry) entry.location = { ...entry.location, href: `Packages/${pkgid.slice(0, 16)}/${entry.location.href}` };
        expect(ours.entries.get(pkgid), `${label} ${kind} ${pkgid}`).toEqual(entry);
      }
    }
    await compareRepomd(served, reference, label);
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

/** The pkgids (sha256 of the served files) of the stored binaries or sources. */
function storedPkgids(source: boolean): string[] {
  return [...stored.values()].filter((p) => p.source === source).map((p) => p.sha256).sort();
}

async function servedPkgids(served: ServedRepo): Promise<string[]> {
  return [...(await readRepodata('primary', served.documents.primary)).entries.keys()].sort();
}

describe('repodata compared with createrepo_c', () => {
  it('compares every stored package: fixtures and, always in CI, the corpus', async () => {
    if (toolsRequired) expect(corpusAvailable).toBe(true);
    if (corpusAvailable) expect(corpusFiles).toBeGreaterThan(100);
    const { body: packages } = await server.admin.get<{ nevra: string }[]>('/api/v1/packages?limit=10000');
    expect(packages.map((p) => p.nevra).sort()).toEqual([...stored.keys()].sort());
    expect(storedPkgids(false).length).toBeGreaterThan(corpusAvailable ? 100 : 10);
    expect(storedPkgids(true).length).toBeGreaterThan(corpusAvailable ? 10 : 5);
  });

  it('a set repository holding every fixture and corpus package has the same entries, field by field', async () => {
    // Every stored package, sources included by name: a source ties to a set through its binaries
    // only when one of them names it, and the source comparison below must cover every SRPM.
    const { status } = await server.admin.post('/api/v1/sets', { name: 'everything', version: '1', packages: [...stored.keys()], allowUnresolved: true });
    expect(status).toBe(201);
    const served = await compareWithCreaterepo(`${server.url}/repo/set/everything/1/`, 'set-binary');
    expect(await servedPkgids(served)).toEqual(storedPkgids(false));
  });

  it('the source sub-repository holds exactly the stored SRPMs, every one, and matches createrepo_c', async () => {
    const served = await compareWithCreaterepo(`${server.url}/repo/set/everything/1/source/`, 'set-source');
    expect(await servedPkgids(served)).toEqual(storedPkgids(true));
    for (const entry of (await readRepodata('primary', served.documents.primary)).entries.values()) expect(entry.arch).toBe('src');
  });

  it('the integ level repository (everything not obsolete) matches createrepo_c', async () => {
    const served = await compareWithCreaterepo(`${server.url}/repo/level/integ/`, 'level-integ');
    expect(await servedPkgids(served)).toEqual(storedPkgids(false));
  });

  it('the integ level source sub-repository holds every stored SRPM and matches createrepo_c', async () => {
    const served = await compareWithCreaterepo(`${server.url}/repo/level/integ/source/`, 'level-source');
    expect(await servedPkgids(served)).toEqual(storedPkgids(true));
    for (const entry of (await readRepodata('primary', served.documents.primary)).entries.values()) expect(entry.arch).toBe('src');
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
