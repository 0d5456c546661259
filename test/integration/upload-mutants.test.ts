// A sample of the mutation sweep (test/unit/rpm/mutation-vs-rpm.test.ts) through the real upload
// path: seeded mutants of fixture and corpus binary RPMs POSTed to a real server with its RSA key.
// Every mutant rpm -K --nosignature or rpm -qp refuses is answered 400 invalid_rpm (problem+json);
// every package stored (201) is served, from the level repository, as a file rpm takes; nothing is
// answered 5xx.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures } from '../fixtures/build-fixtures.ts';
import { corpusAvailable } from '../support/corpus.ts';
import { corpusRpms } from '../support/corpus-rpms.ts';
import { mutate, prng } from '../support/rpm-mutants.ts';
import { rpmAvailable } from '../support/rpm-query.ts';
import { rpmVerdicts, type RpmVerdicts } from '../support/rpm-verdicts.ts';
import { toolsRequired } from '../support/requirements.ts';
import { checksOffPolicy } from '../support/policy-rpms.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const SEED = 0x5eed_0400;
const PER_SOURCE = 4;

const skip = !corpusAvailable || (!(await rpmAvailable()) && !toolsRequired);
if (skip) console.warn('\n*** rpm or the corpus is missing: uploading mutants against rpm\'s verdicts is SKIPPED ***\n');

interface Upload {
  file: string;
  what: string;
  rpm: RpmVerdicts;
  status: number;
  contentType: string;
  body: { code?: string; detail?: string; filename?: string; sha256?: string };
  served?: RpmVerdicts;
}

describe.skipIf(skip)('mutants uploaded through the real HTTP server', () => {
  let server: TestServer;
  let work = '';
  let token = '';
  const uploads: Upload[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-upload-mutants-'));
    await Promise.all([mkdir(path.join(work, 'mutants')), mkdir(path.join(work, 'served'))]);
    let fixtures;
    [server, fixtures] = await Promise.all([startTestServer({ env: { RPMGATE_POLICY_FILE: checksOffPolicy } }), buildFixtures()]);
    token = await server.tokenFor('developer', 'mutant-uploader');
    // Binary packages (served from the level repository): the fixtures, and every sixth corpus RPM.
    const corpus = corpusRpms().filter((rpm) => rpm.kind === 'rpm' && !rpm.path.includes('with-ecdsa'));
    const sources = [...fixtures.rpms, ...corpus.filter((_, i) => i % 6 === 0).map((rpm) => rpm.path)];
    const random = prng(SEED);
    const pending: { file: string; what: string }[] = [];
    for (const source of sources) {
      for (const mutant of mutate(await readFile(source), random, PER_SOURCE)) {
        const file = path.join(work, 'mutants', `u${String(pending.length).padStart(5, '0')}.rpm`);
        await writeFile(file, mutant.bytes);
        pending.push({ file, what: `${path.basename(source)} ${mutant.what}` });
      }
    }
    const verdicts = await rpmVerdicts(pending.map((p) => p.file));
    for (const p of pending) {
      const response = await fetch(`${server.url}/api/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-rpm' },
        body: (await readFile(p.file)) as Uint8Array<ArrayBuffer>,
      });
      const body = (await response.json()) as Upload['body'];
      uploads.push({ ...p, rpm: verdicts.get(p.file)!, status: response.status, contentType: response.headers.get('content-type') ?? '', body });
    }
    const stored = uploads.filter((u) => u.status === 201);
    for (const u of stored) {
      const response = await fetch(`${server.url}/repo/level/integ/Packages/${u.body.sha256!.slice(0, 16)}/${encodeURIComponent(u.body.filename!)}`);
      expect(response.status, u.what).toBe(200);
      await writeFile(path.join(work, 'served', path.basename(u.file)), Buffer.from(await response.arrayBuffer()));
    }
    const served = await rpmVerdicts(stored.map((u) => path.join(work, 'served', path.basename(u.file))));
    for (const u of stored) u.served = served.get(path.join(work, 'served', path.basename(u.file)));
  });

  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const line = (u: Upload): string =>
    `${u.what}: rpm -K ${u.rpm.verify.message || 'OK'}; rpm -qp ${u.rpm.query.message || 'OK'}; rpmgate ${u.status} ${u.body.code ?? ''} ${u.body.detail ?? ''}`;

  it('uploaded a sample with refusals and stored packages, and never answered 5xx', () => {
    expect(uploads.length).toBeGreaterThan(150);
    expect(uploads.filter((u) => u.status >= 500).map(line)).toEqual([]);
    expect(uploads.filter((u) => u.status === 400).length).toBeGreaterThan(50);
    expect(uploads.filter((u) => u.status === 201).length).toBeGreaterThan(20);
  });

  it('answers 400 invalid_rpm, as problem+json with rpm\'s reason, to every mutant rpm refuses', () => {
    const refusedByRpm = uploads.filter((u) => !u.rpm.verify.ok || !u.rpm.query.ok);
    expect(refusedByRpm.length).toBeGreaterThan(50);
    expect(refusedByRpm.filter((u) => u.status !== 400 || u.body.code !== 'invalid_rpm' || u.contentType !== 'application/problem+json').map(line)).toEqual([]);
  });

  it('serves every package it stored as a file rpm -K --nosignature and rpm -qp take', () => {
    const stored = uploads.filter((u) => u.status === 201);
    expect(stored.filter((u) => !u.served?.verify.ok || !u.served.query.ok).map((u) => `${line(u)}; served: ${u.served?.verify.message} ${u.served?.query.message}`)).toEqual([]);
  });
});
