// Damaged copies of real packages, by the thousand: truncation at every structure boundary and across
// the headers, and seeded random byte changes in the lead, the indexes and the data stores. For each,
// parseRpm either returns or throws RpmFormatError (never anything else, never the guard's "unexpected
// reader failure"), and quickly. Main header mutations are re-sealed (header digests recomputed) so
// they reach the model mapping instead of stopping at the digest check. Whether the verdicts agree
// with rpm's is mutation-vs-rpm.test.ts's question.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RpmFormatError } from '../../../common/errors.ts';
import { parseRpm, type ParsedRpm } from '../../../common/rpm/reader.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';
import { prng, reseal, rpmLayout } from '../../support/rpm-mutants.ts';

const skip = !corpusAvailable;

const samples = [
  'rpm/RPMS/hello-2.0-1.x86_64-signed.rpm', // v4, RSA + PGP signatures, reserved space
  'rpm/RPMS/hello-1.0-1.x86_64.rpm-v3', // v3: no regions
  'rpm-rs/RPMS/v6/rpm-basic-2.3.4-5.el9.noarch.rpm', // v6: SHA3-256, PAYLOADSHA512, weak deps
  'createrepo_c/packages/empty-signed-v6-multiple-0-0.x86_64.rpm', // OPENPGP string array
  'rpm/SRPMS/hello-1.0-1.src.rpm', // source package
  'createrepo_c/packages/balicek-iso88592-1.1.1-1.x86_64.rpm', // non-UTF-8 text
  'pulp-fixtures/rpm-new/assets/packages/complex-package-2.3.4-5.el8.x86_64.rpm', // rich deps, changelog
  'libdnf/hawkey/yum/drpms/tour-4-5_4-6.noarch.drpm', // delta RPM
];

interface Outcome {
  parsed: boolean;
  ms: number;
}

const slowest = { ms: 0, what: '' };

/** parseRpm must return or throw RpmFormatError from a check, within a time bound. */
function attempt(bytes: Uint8Array, what: string, options: { verifyPayload?: boolean; packageSize?: number } = {}): Outcome {
  const start = performance.now();
  let parsed = false;
  try {
    const result = parseRpm(bytes, options);
    expect(typeof result.package.name, what).toBe('string');
    parsed = true;
  } catch (error) {
    if (!(error instanceof RpmFormatError)) throw new Error(`${what}: ${String(error)}`, { cause: error });
    expect((error as Error).message, what).not.toMatch(/unexpected reader failure/);
  }
  const ms = performance.now() - start;
  if (ms > slowest.ms) Object.assign(slowest, { ms, what });
  // Typically well under a millisecond; the bound only catches hangs and runaway allocations.
  expect(ms, `${what} took ${ms.toFixed(1)} ms`).toBeLessThan(1000);
  return { parsed, ms };
}

/** Every offset where a structure starts or ends: lead, intros, index entries, entry data, padding. */
function boundaries(parsed: ParsedRpm, length: number): number[] {
  const points = new Set<number>([0, 1, 4, 10, 76, 95, 96, 97, length - 1, length]);
  for (const section of [parsed.signatureHeader, parsed.mainHeader]) {
    const { offset, size, paddedSize, header } = section;
    const indexStart = offset + 16;
    const dataStart = indexStart + 16 * header.index.length;
    for (const delta of [0, 1, 8, 12, 15, 16]) points.add(offset + delta);
    header.index.forEach((entry, i) => {
      points.add(indexStart + 16 * i);
      points.add(indexStart + 16 * i + 8);
      points.add(dataStart + entry.offset);
      points.add(dataStart + entry.offset + entry.length - 1);
      points.add(dataStart + entry.offset + entry.length);
    });
    for (const delta of [-1, 0, 1]) {
      points.add(offset + size + delta);
      points.add(offset + paddedSize + delta);
    }
  }
  points.add(parsed.payloadOffset + 1);
  return [...points].filter((n) => n >= 0 && n <= length).sort((a, b) => a - b);
}

const interesting = [0, 1, 2, 15, 16, 17, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x0fffffff, 0x10000000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

describe.skipIf(skip)('damaged copies of real packages', () => {
  const originals = skip ? [] : samples.map((path) => ({ path, bytes: readFileSync(corpusPath(path)) }));

  it('truncated at every structure boundary and across the headers: refused until the headers are whole', () => {
    let cases = 0;
    for (const { path, bytes } of originals) {
      const parsed = parseRpm(bytes);
      const sweep = Array.from({ length: Math.ceil((parsed.payloadOffset + 32) / 5) }, (_, i) => i * 5);
      for (const length of new Set([...boundaries(parsed, bytes.length), ...sweep])) {
        if (length > bytes.length) continue;
        const cut = bytes.subarray(0, length);
        const what = `${path} cut to ${length} bytes`;
        const headersOnly = attempt(cut, what);
        expect(headersOnly.parsed, what).toBe(length >= parsed.payloadOffset);
        const withPayload = attempt(cut, `${what} (payload verified)`, { verifyPayload: true });
        expect(withPayload.parsed, what).toBe(length === bytes.length);
        cases += 2;
      }
    }
    expect(cases).toBeGreaterThan(3000);
  });

  it('truncated below the headers, with the real file size given: never parsed', () => {
    for (const { path, bytes } of originals) {
      const parsed = parseRpm(bytes);
      for (const length of boundaries(parsed, parsed.payloadOffset - 1)) {
        const outcome = attempt(bytes.subarray(0, length), `${path} buffer of ${length}`, { packageSize: bytes.length });
        expect(outcome.parsed).toBe(false);
      }
    }
  });

  it('with seeded random byte changes in the lead, indexes and data stores: RpmFormatError or a result, never anything else', () => {
    const random = prng(0x5eed);
    let cases = 0;
    let refused = 0;
    for (const { path, bytes } of originals) {
      const original = parseRpm(bytes);
      const layout = rpmLayout(bytes);
      const sig = original.signatureHeader;
      const main = original.mainHeader;
      const regions = [
        { name: 'lead', start: 0, end: 96, weight: 1 },
        { name: 'signature index', start: sig.offset, end: sig.offset + 16 + 16 * sig.header.index.length, weight: 3 },
        { name: 'signature data', start: sig.offset + 16 + 16 * sig.header.index.length, end: sig.offset + sig.paddedSize, weight: 2 },
        { name: 'main index', start: main.offset, end: main.offset + 16 + 16 * main.header.index.length, weight: 5 },
        { name: 'main data', start: main.offset + 16 + 16 * main.header.index.length, end: original.payloadOffset, weight: 5 },
      ];
      const totalWeight = regions.reduce((sum, region) => sum + region.weight, 0);
      for (let i = 0; i < 450; i++) {
        let pick = random() * totalWeight;
        const region = regions.find((r) => (pick -= r.weight) < 0) ?? regions[0]!;
        const copy = Buffer.from(bytes);
        const changes: string[] = [];
        const edits = 1 + Math.floor(random() * 3);
        for (let e = 0; e < edits; e++) {
          const at = region.start + Math.floor(random() * (region.end - region.start));
          if (region.name.endsWith('index') && random() < 0.5) {
            // A whole 32-bit field of an index entry (tag, type, offset or count) or of the intro.
            const field = region.start + 8 + 4 * Math.floor((at - region.start - 8) / 4);
            const value = interesting[Math.floor(random() * interesting.length)]!;
            if (field >= region.start + 8 && field + 4 <= region.end) {
              copy.writeUInt32BE(value >>> 0, field);
              changes.push(`u32@${field}=${value}`);
            }
          } else {
            const value = random() < 0.5 ? copy[at]! ^ (1 + Math.floor(random() * 255)) : Math.floor(random() * 256);
            copy[at] = value;
            changes.push(`@${at}=${value}`);
          }
        }
        if (region.name.startsWith('main')) reseal(copy, layout);
        const what = `${path}: ${region.name} ${changes.join(' ')}`;
        if (!attempt(copy, what).parsed) refused++;
        attempt(copy, `${what} (payload verified)`, { verifyPayload: true });
        cases += 2;
      }
    }
    expect(cases).toBeGreaterThanOrEqual(7000);
    // Most damage is caught; some (a changed byte inside a description) is harmless by design.
    expect(refused).toBeGreaterThan(cases / 2 / 3);
    expect(slowest.ms).toBeLessThan(1000);
  });
});
