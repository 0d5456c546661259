// Seeded mutants of real RPM files, one mutation class at a time, for sweeps that compare rpmgate's
// verdict with rpm's: tags renamed, types changed, counts and offsets moved, region trailers and
// intros changed, digests renamed, removed or corrupted, signature packets changed, the lead changed,
// the payload cut, extended or changed. Main header mutations are "resealed" (the signature header's
// header digests and MD5 recomputed), so that they reach rpm's and rpmgate's header rules
// instead of stopping at a digest mismatch. The originals are read structurally (RpmHeader), never
// judged: damaged corpus files are mutated too.
import { createHash } from 'node:crypto';
import { RpmHeader, type HeaderEntry } from '../../common/rpm/header.ts';
import { readSignatureEntries, signaturePadding, writeSignatureHeader } from '../../common/rpm/signature-header.ts';
import * as T from '../../common/rpm/tags.ts';

/** A small fast seeded PRNG (mulberry32), so every run makes the same mutants. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where the parts of an RPM file are, read from its headers without judging it. */
export interface RpmLayout {
  signature: RpmHeader;
  main: RpmHeader;
  /** File offset of the first index entry of each header. */
  signatureIndex: number;
  mainIndex: number;
  /** File offset of each header's data store. */
  signatureData: number;
  mainData: number;
  payload: number;
}

export function rpmLayout(bytes: Uint8Array): RpmLayout {
  const signature = RpmHeader.parse(bytes, 96, 'signature');
  const main = RpmHeader.parse(bytes, signature.end, 'main');
  const dataOf = (header: RpmHeader): number => header.offset + 16 + 16 * header.index.length;
  return {
    signature,
    main,
    signatureIndex: signature.offset + 16,
    mainIndex: main.offset + 16,
    signatureData: dataOf(signature),
    mainData: dataOf(main),
    payload: main.offset + main.intro.size,
  };
}

/**
 * Recomputes the signature header's header digests (SHA1HEADER, SHA256HEADER, SHA3_256HEADER) and
 * MD5 over the main header and payload of `bytes`, in place, where they are stored with their type
 * and size.
 */
export function reseal(bytes: Buffer, layout: RpmLayout): void {
  const main = bytes.subarray(layout.main.offset, layout.payload);
  const at = (tag: number, type: number, length: number): number | null => {
    const entry = layout.signature.entry(tag);
    return entry && entry.type === type && entry.length === length ? layout.signatureData + entry.offset : null;
  };
  const sha1 = at(T.RPMSIGTAG_SHA1, T.RPM_STRING_TYPE, 41);
  if (sha1 !== null) bytes.write(createHash('sha1').update(main).digest('hex'), sha1, 'latin1');
  const sha256 = at(T.RPMSIGTAG_SHA256, T.RPM_STRING_TYPE, 65);
  if (sha256 !== null) bytes.write(createHash('sha256').update(main).digest('hex'), sha256, 'latin1');
  const sha3 = at(T.RPMSIGTAG_SHA3_256, T.RPM_STRING_TYPE, 65);
  if (sha3 !== null) bytes.write(createHash('sha3-256').update(main).digest('hex'), sha3, 'latin1');
  const md5 = at(T.RPMSIGTAG_MD5, T.RPM_BIN_TYPE, 16);
  if (md5 !== null) createHash('md5').update(bytes.subarray(layout.main.offset)).digest().copy(bytes, md5);
}

export const mutationClasses = [
  'sig: tag renamed',
  'sig: digest tags renamed',
  'sig: digests removed',
  'sig: digest corrupted',
  'sig: type changed',
  'sig: count changed',
  'sig: offset moved',
  'sig: region or intro changed',
  'sig: signature packet changed',
  'main: tag renamed',
  'main: payload digests renamed',
  'main: payload digest corrupted',
  'main: type changed',
  'main: count changed',
  'main: offset moved',
  'main: region changed',
  'payload cut or changed',
  'lead changed',
] as const;

export type MutationClass = (typeof mutationClasses)[number];

export interface Mutant {
  /** The mutation class and what exactly changed ("sig: type changed: entry 3 (MD5) type 7 → 4"). */
  what: string;
  mutationClass: MutationClass;
  bytes: Buffer;
}

/** Relative weights: the digest classes, the defect at hand, are drawn most often. */
const weights: Readonly<Record<MutationClass, number>> = {
  'sig: tag renamed': 3,
  'sig: digest tags renamed': 3,
  'sig: digests removed': 3,
  'sig: digest corrupted': 2,
  'sig: type changed': 3,
  'sig: count changed': 2,
  'sig: offset moved': 2,
  'sig: region or intro changed': 1,
  'sig: signature packet changed': 4,
  'main: tag renamed': 3,
  'main: payload digests renamed': 2,
  'main: payload digest corrupted': 2,
  'main: type changed': 2,
  'main: count changed': 2,
  'main: offset moved': 2,
  'main: region changed': 1,
  'payload cut or changed': 3,
  'lead changed': 1,
};

/** Tags a renamed entry may take: rpm's signature tags, the main header's signature and digest tags, unknown ones. */
const signatureTagPool = [
  T.RPMSIGTAG_DSA, T.RPMSIGTAG_RSA, T.RPMSIGTAG_SHA1, T.RPMSIGTAG_LONGSIZE, T.RPMSIGTAG_LONGARCHIVESIZE, T.RPMSIGTAG_SHA256,
  T.RPMSIGTAG_FILESIGNATURES, T.RPMSIGTAG_FILESIGNATURELENGTH, T.RPMSIGTAG_VERITYSIGNATURES, T.RPMSIGTAG_VERITYSIGNATUREALGO,
  T.RPMSIGTAG_OPENPGP, T.RPMSIGTAG_SHA3_256, T.RPMSIGTAG_RESERVED, T.RPMSIGTAG_SIZE, T.RPMSIGTAG_PGP, T.RPMSIGTAG_MD5,
  T.RPMSIGTAG_GPG, T.RPMSIGTAG_PGP5, T.RPMSIGTAG_PAYLOADSIZE, T.RPMSIGTAG_RESERVEDSPACE, 257, 261, 272, 1001, 1003, 1010, 1099, 1999, 5092, 99, 62, 63,
];
const mainTagPool = [
  257, 259, 261, 262, 266, 267, 268, 269, 270, 271, 273, 276, 277, 1000, 1001, 1004, 1009, 1028, 1030, 1034, 1046, 1047, 1116, 1117, 1118,
  1124, 1125, 5009, 5090, 5091, 5092, 5093, 5097, 5112, 5114, 5121, 5200, 5999, 9999, 100, 99, 61, 63,
];
const unknownTags = [1010, 1099, 1999, 4999];
const interesting = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x0fffffff, 0x7fffffff, 0x80000000, 0xffffffff];

/**
 * `count` seeded mutants of the RPM in `original`, drawn over every mutation class (weighted);
 * a class that does not apply to this file (no signature to change) is drawn again.
 */
export function mutate(original: Buffer, random: () => number, count: number): Mutant[] {
  const layout = rpmLayout(original);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const below = (n: number): number => Math.floor(random() * n);
  const total = mutationClasses.reduce((sum, name) => sum + weights[name], 0);
  const drawClass = (): MutationClass => {
    let left = random() * total;
    return mutationClasses.find((name) => (left -= weights[name]) < 0) ?? mutationClasses[0];
  };
  const mutants: Mutant[] = [];
  for (let attempt = 0; mutants.length < count && attempt < count * 20; attempt++) {
    const mutationClass = drawClass();
    const result = apply(mutationClass, original, layout, { pick, below, random });
    if (result) mutants.push({ mutationClass, what: `${mutationClass}: ${result.what}`, bytes: result.bytes });
  }
  return mutants;
}

interface Draw {
  pick: <T>(items: readonly T[]) => T;
  below: (n: number) => number;
  random: () => number;
}

interface Applied {
  what: string;
  bytes: Buffer;
}

function apply(mutationClass: MutationClass, original: Buffer, layout: RpmLayout, draw: Draw): Applied | null {
  const { pick, below, random } = draw;
  const copy = Buffer.from(original);
  const sig = layout.signature;
  const main = layout.main;
  const sigEntries = sig.index.map((entry, i) => ({ entry, i })).filter(({ entry }) => entry.tag >= 100);
  const mainEntries = main.index.map((entry, i) => ({ entry, i })).filter(({ entry }) => entry.tag >= 100);
  const field = (header: 'sig' | 'main', i: number, word: number): number => (header === 'sig' ? layout.signatureIndex : layout.mainIndex) + 16 * i + 4 * word;
  const name = (entry: HeaderEntry, space: 'main' | 'signature'): string => T.describeTag(entry.tag, space);
  const resealed = (what: string): Applied => {
    reseal(copy, layout);
    return { what: `${what} (resealed)`, bytes: copy };
  };
  const changeWord = (header: 'sig' | 'main', word: number, label: string, values: (entry: HeaderEntry) => number[]): Applied | null => {
    const entries = header === 'sig' ? sigEntries : mainEntries;
    if (entries.length === 0) return null;
    const { entry, i } = pick(entries);
    const value = pick(values(entry)) >>> 0;
    copy.writeUInt32BE(value, field(header, i, word));
    const what = `entry ${i} (${name(entry, header === 'sig' ? 'signature' : 'main')}) ${label} → ${value | 0}`;
    return header === 'main' ? resealed(what) : { what, bytes: copy };
  };
  const deltas = (base: number): number[] => [base - 16, base - 8, base - 4, base - 2, base - 1, base + 1, base + 2, base + 4, base + 8, base + 16, ...interesting];

  switch (mutationClass) {
    case 'sig: tag renamed':
      return changeWord('sig', 0, 'tag', (entry) => [...signatureTagPool, entry.tag - 1, entry.tag + 1]);
    case 'sig: type changed':
      return changeWord('sig', 1, 'type', () => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    case 'sig: count changed':
      return changeWord('sig', 3, 'count', (entry) => [...deltas(entry.count), entry.count * 2, Math.floor(entry.count / 2)]);
    case 'sig: offset moved':
      return changeWord('sig', 2, 'offset', (entry) => deltas(entry.offset));
    case 'main: tag renamed':
      return changeWord('main', 0, 'tag', (entry) => [...mainTagPool, entry.tag - 1, entry.tag + 1]);
    case 'main: type changed':
      return changeWord('main', 1, 'type', () => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    case 'main: count changed':
      return changeWord('main', 3, 'count', (entry) => [...deltas(entry.count), entry.count * 2, Math.floor(entry.count / 2)]);
    case 'main: offset moved':
      return changeWord('main', 2, 'offset', (entry) => deltas(entry.offset));

    case 'sig: digest tags renamed': {
      const digests = sigEntries.filter(({ entry }) => [T.RPMSIGTAG_SHA1, T.RPMSIGTAG_SHA256, T.RPMSIGTAG_MD5].includes(entry.tag));
      if (digests.length === 0) return null;
      const chosen = digests.filter(() => random() < 0.5);
      if (chosen.length === 0) chosen.push(pick(digests));
      const present = new Set(sig.index.map((entry) => entry.tag));
      const free = unknownTags.filter((tag) => !present.has(tag));
      chosen.forEach(({ i }, n) => copy.writeUInt32BE(free[n % free.length]!, field('sig', i, 0)));
      return { what: `renamed ${chosen.map(({ entry }) => name(entry, 'signature')).join(', ')}`, bytes: copy };
    }
    case 'sig: digests removed': {
      const removable = [T.RPMSIGTAG_SHA1, T.RPMSIGTAG_SHA256, T.RPMSIGTAG_MD5, T.RPMSIGTAG_SIZE, T.RPMSIGTAG_LONGSIZE].filter((tag) => sig.has(tag));
      if (removable.length === 0 || sig.regionTag === null) return null;
      const removed = removable.filter(() => random() < 0.4);
      if (removed.length === 0) removed.push(pick(removable));
      const entries = readSignatureEntries(sig).filter((entry) => !removed.includes(entry.tag));
      let rebuilt: Uint8Array;
      try {
        rebuilt = writeSignatureHeader(entries);
      } catch {
        return null;
      }
      const bytes = Buffer.concat([original.subarray(0, 96), rebuilt, Buffer.alloc(signaturePadding(rebuilt.length)), original.subarray(main.offset)]);
      return { what: `removed ${removed.map((tag) => T.describeTag(tag, 'signature')).join(', ')}`, bytes };
    }
    case 'sig: digest corrupted': {
      const digests = sigEntries.filter(({ entry }) => [T.RPMSIGTAG_SHA1, T.RPMSIGTAG_SHA256, T.RPMSIGTAG_MD5].includes(entry.tag));
      if (digests.length === 0) return null;
      const { entry } = pick(digests);
      const at = layout.signatureData + entry.offset + below(Math.max(1, entry.length - (entry.type === T.RPM_BIN_TYPE ? 0 : 1)));
      const replacement = pick([0x30, 0x61, 0x46, 0x7a, 0x00, copy[at]! ^ 1]);
      copy[at] = replacement;
      return { what: `${name(entry, 'signature')} byte ${at} → ${replacement}`, bytes: copy };
    }
    case 'sig: region or intro changed':
      return changeRegionOrIntro(copy, layout, 'sig', draw);
    case 'main: region changed': {
      const changed = changeRegionOrIntro(copy, layout, 'main', draw);
      return changed && resealed(changed.what);
    }
    case 'sig: signature packet changed': {
      const signatures = sigEntries.filter(({ entry }) => [T.RPMSIGTAG_RSA, T.RPMSIGTAG_DSA, T.RPMSIGTAG_PGP, T.RPMSIGTAG_GPG].includes(entry.tag));
      if (signatures.length === 0) return null;
      const { entry } = pick(signatures);
      const at = layout.signatureData + entry.offset + below(Math.min(entry.length, 64));
      copy[at] = copy[at]! ^ (1 << below(8));
      return { what: `${name(entry, 'signature')} byte ${at} flipped`, bytes: copy };
    }
    case 'main: payload digests renamed': {
      const digests = mainEntries.filter(({ entry }) => entry.tag === T.RPMTAG_PAYLOADDIGEST || entry.tag === T.RPMTAG_PAYLOADDIGESTALT);
      if (digests.length === 0) return null;
      const chosen = digests.filter(() => random() < 0.6);
      if (chosen.length === 0) chosen.push(pick(digests));
      chosen.forEach(({ i }, n) => copy.writeUInt32BE(5200 + n, field('main', i, 0)));
      return resealed(`renamed ${chosen.map(({ entry }) => name(entry, 'main')).join(', ')}`);
    }
    case 'main: payload digest corrupted': {
      const digests = mainEntries.filter(({ entry }) => [T.RPMTAG_PAYLOADDIGEST, T.RPMTAG_PAYLOADDIGESTALT, T.RPMTAG_PAYLOADDIGESTALGO].includes(entry.tag));
      if (digests.length === 0) return null;
      const { entry } = pick(digests);
      if (entry.tag === T.RPMTAG_PAYLOADDIGESTALGO) {
        const value = pick([1, 2, 9, 10, 11, 99]);
        copy.writeUInt32BE(value, layout.mainData + entry.offset);
        return resealed(`${name(entry, 'main')} → ${value}`);
      }
      const at = layout.mainData + entry.offset + below(Math.max(1, entry.length - 1));
      const replacement = pick([0x30, 0x61, 0x46, 0x7a, 0x00]);
      copy[at] = replacement;
      return resealed(`${name(entry, 'main')} byte ${at} → ${replacement}`);
    }
    case 'payload cut or changed': {
      const payloadLength = original.length - layout.payload;
      const how = below(5);
      if (how === 0) return { what: 'payload removed', bytes: original.subarray(0, layout.payload) };
      if (how === 1) {
        const keep = below(Math.max(1, payloadLength));
        return { what: `payload cut to ${keep} of ${payloadLength} bytes`, bytes: original.subarray(0, layout.payload + keep) };
      }
      if (how === 2) return { what: 'last payload byte cut', bytes: original.subarray(0, original.length - 1) };
      if (how === 3) return { what: 'bytes appended', bytes: Buffer.concat([original, Buffer.alloc(1 + below(64), 0x5a)]) };
      const at = layout.payload + below(Math.max(1, payloadLength));
      if (at >= copy.length) return null;
      copy[at] = copy[at]! ^ 0x10;
      return { what: `payload byte ${at} changed`, bytes: copy };
    }
    case 'lead changed': {
      const at = pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 76, 77, 78, 79, 80, 95]);
      const value = pick([0, 1, 2, 3, 4, 5, 0xff, copy[at]! ^ 1]);
      copy[at] = value;
      return { what: `lead byte ${at} → ${value}`, bytes: copy };
    }
  }
}

/** The region entry's fields, the region trailer's, or the intro's entry count and data length. */
function changeRegionOrIntro(copy: Buffer, layout: RpmLayout, header: 'sig' | 'main', draw: Draw): Applied | null {
  const { pick } = draw;
  const parsed = header === 'sig' ? layout.signature : layout.main;
  const index = header === 'sig' ? layout.signatureIndex : layout.mainIndex;
  const data = header === 'sig' ? layout.signatureData : layout.mainData;
  const region = parsed.regionTag === null ? null : parsed.index[0]!;
  const targets: { label: string; at: number; values: number[] }[] = [];
  if (region) {
    const trailer = data + region.offset;
    const il = parsed.index.length;
    targets.push(
      { label: 'region tag', at: index, values: [61, 62, 63, 64, 100, 1000] },
      { label: 'region type', at: index + 4, values: [4, 6, 8] },
      { label: 'region offset', at: index + 8, values: [0, region.offset - 16, region.offset - 1, region.offset + 1, region.offset + 16] },
      { label: 'region count', at: index + 12, values: [0, 8, 15, 17, 32] },
      { label: 'trailer tag', at: trailer, values: [61, 62, 63, 64, 1000] },
      { label: 'trailer offset', at: trailer + 8, values: [0, -16 * (il - 1), -16 * (il + 1), -16 * il + 4, 16 * il] },
      { label: 'trailer count', at: trailer + 12, values: [0, 15, 17] },
    );
  }
  if (header === 'sig') {
    targets.push(
      { label: 'intro entry count', at: parsed.offset + 8, values: [0, parsed.index.length - 1, parsed.index.length + 1, 33, 0xffff] },
      { label: 'intro data length', at: parsed.offset + 12, values: [0, parsed.intro.dataLength - 1, parsed.intro.dataLength + 1, parsed.intro.dataLength + 8] },
    );
  }
  if (targets.length === 0) return null;
  const target = pick(targets);
  const value = pick(target.values);
  copy.writeUInt32BE(value >>> 0, target.at);
  return { what: `${target.label} → ${value}`, bytes: copy };
}

/**
 * The package as it would be had it lost digests: `signature` tags left out of a rebuilt signature
 * header, `main` tags renamed to unknown numbers (5200, 5201, ...) in the main header, and the
 * header digests and MD5 that remain computed again, so that nothing but the loss is wrong.
 */
export function withoutDigests(original: Buffer, remove: { signature?: readonly number[]; main?: readonly number[] }): Buffer {
  const layout = rpmLayout(original);
  const rest = Buffer.from(original.subarray(layout.main.offset));
  (remove.main ?? []).forEach((tag, n) => {
    const i = layout.main.index.findIndex((entry) => entry.tag === tag);
    if (i < 0) throw new Error(`the main header has no tag ${tag}`);
    rest.writeUInt32BE(5200 + n, 16 + 16 * i);
  });
  const mainHeader = rest.subarray(0, layout.main.intro.size);
  const text = (hex: string): Buffer => Buffer.from(`${hex}\0`, 'latin1');
  const entries = readSignatureEntries(layout.signature)
    .filter((entry) => !(remove.signature ?? []).includes(entry.tag))
    .map((entry) => {
      if (entry.tag === T.RPMSIGTAG_SHA1) return { ...entry, data: text(createHash('sha1').update(mainHeader).digest('hex')) };
      if (entry.tag === T.RPMSIGTAG_SHA256) return { ...entry, data: text(createHash('sha256').update(mainHeader).digest('hex')) };
      if (entry.tag === T.RPMSIGTAG_MD5) return { ...entry, data: createHash('md5').update(rest).digest() };
      return entry;
    });
  const signature = writeSignatureHeader(entries);
  return Buffer.concat([original.subarray(0, 96), signature, Buffer.alloc(signaturePadding(signature.length)), rest]);
}
