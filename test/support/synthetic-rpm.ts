// Synthetic RPM files written by the header writer (lead, signature header with digests and sizes,
// main header, payload), and the byte surgery the reader's tests damage them with.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { RpmFormatError } from '../../common/errors.ts';
import { writeHeader, writeLead, type HeaderEntryInput } from '../../common/rpm/header-writer.ts';
import { parseRpm } from '../../common/rpm/reader.ts';
import * as T from '../../common/rpm/tags.ts';

export const S = T.RPM_STRING_TYPE;
export const SA = T.RPM_STRING_ARRAY_TYPE;
export const I18N = T.RPM_I18NSTRING_TYPE;
export const I32 = T.RPM_INT32_TYPE;
export const I16 = T.RPM_INT16_TYPE;

export const baseMain: HeaderEntryInput[] = [
  { tag: T.RPMTAG_HEADERI18NTABLE, type: SA, value: ['C'] },
  { tag: T.RPMTAG_NAME, type: S, value: 'demo' },
  { tag: T.RPMTAG_VERSION, type: S, value: '1.2' },
  { tag: T.RPMTAG_RELEASE, type: S, value: '3.el9' },
  { tag: T.RPMTAG_EPOCH, type: I32, value: [2] },
  { tag: T.RPMTAG_SUMMARY, type: I18N, value: ['A demo package'] },
  { tag: T.RPMTAG_DESCRIPTION, type: I18N, value: ['Demo.\nTwo lines.'] },
  { tag: T.RPMTAG_BUILDTIME, type: I32, value: [1700000000] },
  { tag: T.RPMTAG_BUILDHOST, type: S, value: 'builder.example' },
  { tag: T.RPMTAG_SIZE, type: I32, value: [4096] },
  { tag: T.RPMTAG_VENDOR, type: S, value: 'Example' },
  { tag: T.RPMTAG_LICENSE, type: S, value: 'MIT' },
  { tag: T.RPMTAG_PACKAGER, type: S, value: 'Jane <jane@example.org>' },
  { tag: T.RPMTAG_GROUP, type: I18N, value: ['Applications/System'] },
  { tag: T.RPMTAG_URL, type: S, value: 'https://example.org/' },
  { tag: 1021, type: S, value: 'linux' },
  { tag: T.RPMTAG_ARCH, type: S, value: 'x86_64' },
  { tag: T.RPMTAG_FILEMODES, type: I16, value: [0o100644, 0o040755, 0o100644, 0o040755] },
  { tag: T.RPMTAG_FILEFLAGS, type: I32, value: [0, 0, T.RPMFILE_GHOST, T.RPMFILE_GHOST] },
  { tag: T.RPMTAG_SOURCERPM, type: S, value: 'demo-1.2-3.el9.src.rpm' },
  { tag: T.RPMTAG_PROVIDENAME, type: SA, value: ['demo', 'demo(x86-64)'] },
  { tag: T.RPMTAG_PROVIDEFLAGS, type: I32, value: [8, 8] },
  { tag: T.RPMTAG_PROVIDEVERSION, type: SA, value: ['2:1.2-3.el9', '2:1.2-3.el9'] },
  { tag: T.RPMTAG_REQUIRENAME, type: SA, value: ['/bin/sh', 'libc.so.6()(64bit)', 'rpmlib(CompressedFileNames)'] },
  { tag: T.RPMTAG_REQUIREFLAGS, type: I32, value: [512 | 64, 16384, 16777226] },
  { tag: T.RPMTAG_REQUIREVERSION, type: SA, value: ['', '', '3.0.4-1'] },
  { tag: T.RPMTAG_CHANGELOGTIME, type: I32, value: [1690000000, 1680000000] },
  { tag: T.RPMTAG_CHANGELOGNAME, type: SA, value: ['Jane <jane@example.org> - 1.2-3', 'Joe - 1.1-1'] },
  { tag: T.RPMTAG_CHANGELOGTEXT, type: SA, value: ['- Newer', '- Older'] },
  { tag: T.RPMTAG_DIRINDEXES, type: I32, value: [0, 0, 1, 1] },
  { tag: T.RPMTAG_BASENAMES, type: SA, value: ['demo', 'demo.d', 'state', 'cache'] },
  { tag: T.RPMTAG_DIRNAMES, type: SA, value: ['/usr/bin/', '/var/lib/'] },
  { tag: T.RPMTAG_PAYLOADFORMAT, type: S, value: 'cpio' },
  { tag: T.RPMTAG_PAYLOADCOMPRESSOR, type: S, value: 'gzip' },
  { tag: T.RPMTAG_RECOMMENDNAME, type: SA, value: ['demo-extras'] },
  { tag: T.RPMTAG_RECOMMENDVERSION, type: SA, value: ['1.0'] },
  { tag: T.RPMTAG_RECOMMENDFLAGS, type: I32, value: [12] },
];

export interface BuildOptions {
  /** Main header entries (default baseMain); a function receives baseMain to change. */
  main?: HeaderEntryInput[] | ((base: HeaderEntryInput[]) => HeaderEntryInput[]);
  mainRegion?: 63 | null;
  sigRegion?: 62 | null;
  leadType?: 0 | 1;
  payload?: Buffer;
  /** Extra signature header entries, or replacements for the computed ones (by tag). */
  sig?: HeaderEntryInput[];
  /** Leave out the computed digests (SHA1HEADER, SHA256HEADER, MD5) and sizes. */
  noDigests?: boolean;
  /** Leave out these of the computed signature header entries. */
  omit?: number[];
  /** Add PAYLOADDIGEST (sha256) to the main header. */
  payloadDigest?: boolean;
}

export function hex(algorithm: string, ...parts: Uint8Array[]): string {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** A well-formed package: lead, signature header with digests and sizes, main header, payload. */
export function buildPackage(options: BuildOptions = {}): Buffer {
  const payload = options.payload ?? Buffer.from('\x1f\x8b fake gzip payload');
  let main = typeof options.main === 'function' ? options.main(baseMain) : (options.main ?? baseMain);
  if (options.payloadDigest ?? true) {
    main = [
      ...main,
      { tag: T.RPMTAG_PAYLOADDIGEST, type: SA, value: [hex('sha256', payload)] },
      { tag: T.RPMTAG_PAYLOADDIGESTALGO, type: I32, value: [8] },
    ];
  }
  const mainBytes = writeHeader(main, { region: options.mainRegion === undefined ? 63 : options.mainRegion });
  const computed: HeaderEntryInput[] = options.noDigests
    ? []
    : [
        { tag: T.RPMSIGTAG_SHA1, type: S, value: hex('sha1', mainBytes) },
        { tag: T.RPMSIGTAG_SHA256, type: S, value: hex('sha256', mainBytes) },
        { tag: T.RPMSIGTAG_SIZE, type: I32, value: [mainBytes.length + payload.length] },
        { tag: T.RPMSIGTAG_MD5, type: T.RPM_BIN_TYPE, value: createHash('md5').update(mainBytes).update(payload).digest() },
        { tag: T.RPMSIGTAG_PAYLOADSIZE, type: I32, value: [1234] },
      ];
  const extra = options.sig ?? [];
  const kept = computed.filter((entry) => !extra.some((e) => e.tag === entry.tag) && !(options.omit ?? []).includes(entry.tag));
  const sig = [...kept, ...extra];
  const sigBytes = writeHeader(sig, { region: options.sigRegion === undefined ? 62 : options.sigRegion, pad: true });
  return Buffer.concat([writeLead({ type: options.leadType ?? 0, name: 'demo-1.2-3.el9' }), sigBytes, mainBytes, payload]);
}

/** Offsets of a package's parts, read from its intros. */
export function layout(bytes: Buffer) {
  const sigIl = bytes.readUInt32BE(96 + 8);
  const sigDl = bytes.readUInt32BE(96 + 12);
  const sigSize = 16 + 16 * sigIl + sigDl;
  const main = 96 + sigSize + ((8 - (sigSize % 8)) % 8);
  const il = bytes.readUInt32BE(main + 8);
  const dl = bytes.readUInt32BE(main + 12);
  const data = main + 16 + 16 * il;
  return { sig: 96, sigIl, sigDl, sigData: 96 + 16 + 16 * sigIl, main, il, dl, data, payload: data + dl };
}

/** The index position of `tag` in the main header. */
export function mainEntry(bytes: Buffer, tag: number): { at: number; offset: number; count: number; type: number } {
  const l = layout(bytes);
  for (let i = 0; i < l.il; i++) {
    const at = l.main + 16 + 16 * i;
    if (bytes.readInt32BE(at) === tag) {
      return { at, type: bytes.readUInt32BE(at + 4), offset: bytes.readInt32BE(at + 8), count: bytes.readUInt32BE(at + 12) };
    }
  }
  throw new Error(`tag ${tag} not in the main header`);
}

export function patched(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

/** Appends an entry after the signature region ("dribble"), as old rpmsign could leave it. */
export function withSignatureDribble(bytes: Buffer, tag: number, type: number, data: Buffer, count: number): Buffer {
  const l = layout(bytes);
  const indexEnd = l.sigData;
  const dataBytes = bytes.subarray(l.sigData, l.sigData + l.sigDl);
  const align = type === I32 ? (4 - (l.sigDl % 4)) % 4 : 0;
  const entry = Buffer.alloc(16);
  entry.writeInt32BE(tag, 0);
  entry.writeUInt32BE(type, 4);
  entry.writeInt32BE(l.sigDl + align, 8);
  entry.writeUInt32BE(count, 12);
  const intro = Buffer.from(bytes.subarray(96, 112));
  intro.writeUInt32BE(l.sigIl + 1, 8);
  intro.writeUInt32BE(l.sigDl + align + data.length, 12);
  const size = 16 + 16 * (l.sigIl + 1) + l.sigDl + align + data.length;
  const sig = Buffer.concat([intro, bytes.subarray(112, indexEnd), entry, dataBytes, Buffer.alloc(align), data]);
  return Buffer.concat([bytes.subarray(0, 96), sig, Buffer.alloc((8 - (size % 8)) % 8), bytes.subarray(l.main)]);
}

export function expectRefused(bytes: Uint8Array, message: RegExp, options: { verifyPayload?: boolean } = {}): void {
  let error: unknown;
  try {
    parseRpm(bytes, options);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(RpmFormatError);
  expect((error as Error).message).toMatch(message);
}
