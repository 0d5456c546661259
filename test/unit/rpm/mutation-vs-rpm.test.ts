// rpmgate against rpm 4.18 on thousands of seeded mutants of every corpus and fixture RPM (tags
// renamed, types changed, counts and offsets moved, digests renamed, removed or corrupted, region
// trailers, signature packets, the lead and the payload damaged; test/support/rpm-mutants.ts). Each
// mutant goes the way of an upload, through the reader, the upload's own entry check and the real
// package signer, and rpm judges both the mutant and the file rpmgate would serve, in batches:
// - every mutant `rpm -K --nosignature` or `rpm -qp` refuses, rpmgate refuses as invalid_rpm (400);
// - every file rpmgate would serve passes `rpm -K --nosignature` and `rpm -qp`.
// mutation.test.ts checks the same reader for crashes and hangs on random byte damage; here the
// verdicts themselves are compared. Deliberate differences (README, "The RPM reader"): the
// ECDSA-signed package, whose signature rpm 4.18 cannot parse, is judged by rpm -qp --nosignature.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRpmgateError } from '../../../common/errors.ts';
import { assertInstallable } from '../../../common/rpm/installable.ts';
import { readRpmFile } from '../../../common/rpm/reader.ts';
import { Keyring } from '../../../server/signing/keyring.ts';
import { signRpmFile } from '../../../server/signing/package-signer.ts';
import { buildFixtures } from '../../fixtures/build-fixtures.ts';
import { corpusAvailable } from '../../support/corpus.ts';
import { corpusRpms } from '../../support/corpus-rpms.ts';
import { mutate, mutationClasses, prng, type MutationClass } from '../../support/rpm-mutants.ts';
import { rpmAvailable } from '../../support/rpm-query.ts';
import { rpmVerdicts, type RpmVerdicts } from '../../support/rpm-verdicts.ts';
import { toolsRequired } from '../../support/requirements.ts';

const SEED = 0x5eed_0010;
/** Mutants per source file; files over 256 KiB get fewer, to keep the sweep's disk and time small. */
const PER_SOURCE = 15;
const PER_LARGE_SOURCE = 3;
/** rpm 4.18 cannot parse ECDSA signatures; rpmgate takes them, as rpm >= 4.19 does (README). */
const ECDSA_SOURCE = 'rpm-basic-with-ecdsa-2.3.4-5.el9.noarch.rpm';

const skip = !corpusAvailable || (!(await rpmAvailable()) && !toolsRequired);
if (skip) console.warn('\n*** rpm or the corpus is missing: the mutation sweep against rpm is SKIPPED ***\n');

/**
 * Where rpmgate refuses what rpm 4.18 takes, on purpose (README, "The RPM reader"): [its message,
 * and the sources it may come from when it is not a rule for every package].
 */
const deliberatelyStricter: readonly (readonly [RegExp, RegExp?])[] = [
  // A package rpmgate cannot sign or that cannot be installed.
  [/^cannot sign an RPM v3 package/],
  [/^this is a delta RPM/],
  // The lead names neither a binary nor a source package.
  [/^invalid package type \d+ in the lead/],
  // A tag twice: rpm would take one of the values; entries after the signature region that rpm's
  // verification, its header import and rpmsign each read differently.
  [/ holds .+ twice$/],
  [/^signature header: .+ lies after the signature region/],
  // Header+payload signatures, which rpm -K checks (and refuses the file for) unless --nosignature.
  [/^the (PGP|GPG|PGP5) signature is not a valid OpenPGP signature/],
  // Tags rpm 4 does not know but rpmgate reads (rpm 6's digests, sizes, format, OPENPGP) or rewrites.
  [/^(reserved space|PGP5 signature|OpenPGP signatures|Header SHA3-256 digest): BAD \(package tag \d+: invalid type/],
  [/^main header entry \d+ \((PAYLOADSIZE|PAYLOADSIZEALT|RPMFORMAT|PAYLOADSHA512|PAYLOADSHA512ALT|PAYLOADSHA3_256|PAYLOADSHA3_256ALT) \(\d+\),.*: rpm defines this tag as/],
  [/\((SHA3_256HEADER|PAYLOADSHA512|PAYLOADSHA3_256) digest mismatch|^main header PAYLOADSHA\w+ \(\d+\) is not a/],
  // A damaged payload digest, which rpm forgives when its alternative (PAYLOADDIGEST/ALT) verifies.
  [/^Payload SHA256 (ALT )?digest: BAD \(package tag \d+: invalid hex\)|^Payload SHA256 digest: BAD \(PAYLOADDIGEST digest mismatch/],
  // Recorded sizes checked against the file.
  [/^size mismatch|no payload/],
  // The package model: the tags every repository needs, lists that fit together, text that is text.
  [/^the main header has |^main header \w+ \(\d+\) (has \d+ entries but|is empty|is not valid UTF-8|value \d+ is too large)|^DIRINDEXES\[/],
  // The ECDSA package's signature, which rpm 4.18 cannot parse and so does not compare with the header.
  [/^Header DSA signature: BAD \(it does not match the main header/, /rpm-basic-with-ecdsa-/],
];

function refusal(c: Case): string {
  return c.rpmgate.stored ? '' : c.rpmgate.message;
}

interface Case {
  file: string;
  source: string;
  what: string;
  mutationClass: MutationClass;
  rpm: RpmVerdicts;
  /** rpmgate's answer: stored (with the file it would serve) or refused with an error code. */
  rpmgate: { stored: true; served: string } | { stored: false; code: string; message: string };
  served?: RpmVerdicts;
}

describe.skipIf(skip)('seeded mutants of every corpus and fixture RPM, judged by rpm 4.18 and by rpmgate', () => {
  let work = '';
  const cases: Case[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-mutants-'));
    await Promise.all([mkdir(path.join(work, 'mutants')), mkdir(path.join(work, 'served'))]);
    const [fixtures, keyring] = await Promise.all([
      buildFixtures(),
      // ed25519 keeps thousands of signatures fast; the HTTP sample (test/integration) signs with RSA.
      Keyring.open({ dataDir: path.join(work, 'keys'), algorithm: 'ed25519', hostname: 'sweep.example' }),
    ]);
    const sources = [...corpusRpms().map((rpm) => rpm.path), ...fixtures.packages.map((fixture) => fixture.path)];
    const random = prng(SEED);
    const pending: Omit<Case, 'rpm' | 'rpmgate'>[] = [];
    for (const source of sources) {
      const bytes = await readFile(source);
      for (const mutant of mutate(bytes, random, (await stat(source)).size > 256 * 1024 ? PER_LARGE_SOURCE : PER_SOURCE)) {
        const file = path.join(work, 'mutants', `m${String(pending.length).padStart(6, '0')}.rpm`);
        await writeFile(file, mutant.bytes);
        pending.push({ file, source, what: mutant.what, mutationClass: mutant.mutationClass });
      }
    }

    const ecdsa = new Set(pending.filter((c) => c.source.endsWith(ECDSA_SOURCE)).map((c) => c.file));
    const verdicts = await rpmVerdicts(
      pending.map((c) => c.file),
      { querySkippingSignatures: ecdsa },
    );
    for (const c of pending) cases.push({ ...c, rpm: verdicts.get(c.file)!, rpmgate: await admit(c.file, keyring) });

    const stored = cases.filter((c) => c.rpmgate.stored);
    const served = await rpmVerdicts(stored.map((c) => (c.rpmgate as { served: string }).served));
    for (const c of stored) c.served = served.get((c.rpmgate as { served: string }).served);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** What an upload does with the file: read and verify it, check it as the upload does, sign it. */
  async function admit(file: string, keyring: Keyring): Promise<Case['rpmgate']> {
    try {
      const parsed = await readRpmFile(file);
      assertInstallable(parsed);
      const bytes = await readFile(file);
      const written = { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
      const outputPath = path.join(work, 'served', path.basename(file));
      const signed = await signRpmFile(written, parsed, keyring.current(), { outputPath });
      return { stored: true, served: signed.path };
    } catch (error) {
      if (!isRpmgateError(error)) throw error;
      return { stored: false, code: error.code, message: error.message };
    }
  }

  const describeCase = (c: Case): string =>
    `${path.basename(c.source)} ${c.what}\n  rpm -K: ${c.rpm.verify.message || 'OK'}\n  rpm -qp: ${c.rpm.query.message || 'OK'}\n  rpmgate: ${
      c.rpmgate.stored ? 'stored' : `${c.rpmgate.code}: ${c.rpmgate.message}`
    }`;

  it('made thousands of mutants over every mutation class, and rpm both takes and refuses some of each kind', () => {
    expect(cases.length).toBeGreaterThan(3000);
    const byClass = new Map<MutationClass, Case[]>();
    for (const c of cases) byClass.set(c.mutationClass, [...(byClass.get(c.mutationClass) ?? []), c]);
    const rows = mutationClasses.map((name) => {
      const list = byClass.get(name) ?? [];
      const refusedByRpm = list.filter((c) => !c.rpm.verify.ok || !c.rpm.query.ok).length;
      const stored = list.filter((c) => c.rpmgate.stored).length;
      return `${name.padEnd(32)} ${String(list.length).padStart(7)} ${String(refusedByRpm).padStart(12)} ${String(stored).padStart(7)}`;
    });
    console.log(`${'mutation class'.padEnd(32)} mutants refused:rpm  stored\n${rows.join('\n')}`);
    for (const mutationClass of mutationClasses) {
      const list = byClass.get(mutationClass) ?? [];
      expect(list.length, mutationClass).toBeGreaterThanOrEqual(mutationClass === 'sig: signature packet changed' ? 20 : 40);
      expect(list.some((c) => !c.rpm.verify.ok || !c.rpm.query.ok), `${mutationClass}: some refused by rpm`).toBe(true);
    }
    // Classes where rpm takes some mutants: those are where storing too much would show.
    const takenByRpm = mutationClasses.filter((name) => (byClass.get(name) ?? []).some((c) => c.rpm.verify.ok && c.rpm.query.ok));
    expect(takenByRpm.length).toBeGreaterThanOrEqual(10);
    expect(cases.filter((c) => c.rpmgate.stored).length).toBeGreaterThan(300);
  });

  it('refuses, as invalid_rpm (400), every mutant rpm -K --nosignature or rpm -qp refuses', () => {
    const storedThoughRefused = cases.filter((c) => (!c.rpm.verify.ok || !c.rpm.query.ok) && (c.rpmgate.stored || c.rpmgate.code !== 'invalid_rpm'));
    expect(storedThoughRefused.map(describeCase)).toEqual([]);
  });

  it('serves, for every mutant it stores, a file that rpm -K --nosignature and rpm -qp take', () => {
    const badServed = cases.filter((c) => c.rpmgate.stored && (!c.served?.verify.ok || !c.served.query.ok));
    expect(
      badServed.map((c) => `${describeCase(c)}\n  served: rpm -K ${c.served?.verify.message || 'OK'}; rpm -qp ${c.served?.query.message || 'OK'}`),
    ).toEqual([]);
  });

  it('refuses what rpm takes only for the reasons the README lists as deliberately stricter', () => {
    const stricter = cases.filter((c) => c.rpm.verify.ok && c.rpm.query.ok && !c.rpmgate.stored);
    const unexplained = stricter.filter((c) => !deliberatelyStricter.some(([reason, sources]) => reason.test(refusal(c)) && (!sources || sources.test(c.source))));
    expect(unexplained.map(describeCase)).toEqual([]);
    // Most of what rpm takes, rpmgate takes too.
    const takenByRpm = cases.filter((c) => c.rpm.verify.ok && c.rpm.query.ok);
    expect(stricter.length).toBeLessThan(takenByRpm.length / 4);
  });
});
