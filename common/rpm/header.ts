// One rpm header structure (magic, index, data store), checked the way rpm checks it before trusting
// it, then read through typed getters. The checks follow rpm's lib/header.c: hdrblobRead and
// hdrblobVerifyLengths (limits), hdrblobVerifyRegion (region tag and trailer), hdrblobVerifyInfo
// (every index entry) and hdrblobImport/regionSwab (the entries account for the whole data store).
// Every count and offset is checked against the bytes at hand before anything is allocated from it.
import { RpmFormatError } from '../errors.ts';
import { decodeHeaderStrings, decodeHeaderText } from './header-strings.ts';
import {
  describeTag,
  describeType,
  isStringType,
  mainTagTypes,
  RPM_BIN_TYPE,
  RPM_CHAR_TYPE,
  RPM_INT16_TYPE,
  RPM_INT32_TYPE,
  RPM_INT64_TYPE,
  RPM_INT8_TYPE,
  RPM_MAX_TYPE,
  RPM_MIN_TYPE,
  RPM_NULL_TYPE,
  RPM_STRING_TYPE,
  RPMTAG_HEADERI18NTABLE,
  RPMTAG_HEADERIMAGE,
  RPMTAG_HEADERIMMUTABLE,
  RPMTAG_HEADERSIGNATURES,
  typeAlign,
  typeSizes,
} from './tags.ts';

/** rpm_header_magic: 8e ad e8 01 followed by four reserved zero bytes. */
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0] as const;
/** Bytes before the index: magic (8), index entry count (4), data store size (4). */
export const HEADER_INTRO_SIZE = 16;
const ENTRY_SIZE = 16;
/** REGION_TAG_COUNT: a region tag's data is one 16-byte trailer entry. */
const REGION_TRAILER_SIZE = 16;
/** HEADER_TAGS_MAX and HEADER_DATA_MAX (lib/header.c) for the main header. */
const MAIN_MAX_TAGS = 0x0000ffff;
const MAIN_MAX_DATA = 0x0fffffff;
/** hdrblobVerifyLengths: the signature header is capped at 32 tags and 64 MiB (rpm 4.18 reads a 20 MB one). */
const SIGNATURE_MAX_TAGS = 32;
const SIGNATURE_MAX_DATA = 64 * 1024 * 1024;
/** headerMaxbytes: 8 + 16 * il + dl must stay below 256 MiB. */
const HEADER_MAX_BYTES = 256 * 1024 * 1024;
/** HEADER_ARRAY_MAX (hdrchkArray): at most about a million elements in any non-binary entry. */
const ARRAY_MAX = 0x000fffff;

export type HeaderKind = 'signature' | 'main';

/** One index entry as stored. `length` is the byte length of its data, computed and checked at parse. */
export interface HeaderEntry {
  tag: number;
  type: number;
  /** Offset of the data in the data store (for a region tag: of its trailer). */
  offset: number;
  count: number;
  length: number;
}

/** The first 16 bytes of a header: enough to know how long it is. */
export interface HeaderIntro {
  /** Index entries (il). */
  indexCount: number;
  /** Data store bytes (dl). */
  dataLength: number;
  /** 16 + 16 * il + dl: magic through the end of the data store. */
  size: number;
  /** size rounded up to 8 for the signature header (rpm pads it), size for the main header. */
  paddedSize: number;
}

/**
 * Reads and checks a header's intro at `offset`: magic and rpm's size limits. `fileSize` only
 * shapes the message when the bytes end early.
 */
export function readHeaderIntro(bytes: Uint8Array, offset: number, kind: HeaderKind, fileSize = bytes.length): HeaderIntro {
  const what = headerName(kind);
  if (bytes.length < offset + HEADER_INTRO_SIZE) {
    throw truncated(`the ${what}'s 16-byte intro`, offset + HEADER_INTRO_SIZE, bytes.length, fileSize);
  }
  for (let i = 0; i < HEADER_MAGIC.length; i++) {
    if (bytes[offset + i] !== HEADER_MAGIC[i]) {
      throw new RpmFormatError(`bad ${what} magic at byte ${offset}: expected 8e ad e8 01 00 00 00 00`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_INTRO_SIZE);
  const indexCount = view.getUint32(8);
  const dataLength = view.getUint32(12);
  const maxTags = kind === 'signature' ? SIGNATURE_MAX_TAGS : MAIN_MAX_TAGS;
  const maxData = kind === 'signature' ? SIGNATURE_MAX_DATA : MAIN_MAX_DATA;
  if (indexCount > maxTags) {
    throw new RpmFormatError(`${what}: ${indexCount} index entries, more than rpm's limit of ${maxTags}`);
  }
  if (dataLength > maxData) {
    throw new RpmFormatError(`${what}: data store of ${dataLength} bytes, more than rpm's limit of ${maxData}`);
  }
  if (8 + ENTRY_SIZE * indexCount + dataLength >= HEADER_MAX_BYTES) {
    throw new RpmFormatError(`${what}: ${indexCount} entries and ${dataLength} data bytes exceed rpm's 256 MiB header limit`);
  }
  const size = HEADER_INTRO_SIZE + ENTRY_SIZE * indexCount + dataLength;
  const paddedSize = kind === 'signature' ? size + ((8 - (size % 8)) % 8) : size;
  return { indexCount, dataLength, size, paddedSize };
}

/** A checked header: its place in the file, its index, and typed access to its values. */
export class RpmHeader {
  readonly kind: HeaderKind;
  /** File offset of the header magic. */
  readonly offset: number;
  readonly intro: HeaderIntro;
  /** The header bytes, magic through the end of the data store (a view into the parsed buffer). */
  readonly bytes: Uint8Array;
  /** HEADERSIGNATURES (62) or HEADERIMMUTABLE (63); null for a v3 header without a region. */
  readonly regionTag: number | null;
  /** Every index entry in stored order, the region tag included. */
  readonly index: readonly HeaderEntry[];
  private readonly byTag: Map<number, HeaderEntry>;
  private readonly data: Buffer;
  private readonly dataView: DataView;
  private readonly repaired = new Set<number>();

  private constructor(
    kind: HeaderKind,
    offset: number,
    intro: HeaderIntro,
    bytes: Uint8Array,
    regionTag: number | null,
    index: HeaderEntry[],
    byTag: Map<number, HeaderEntry>,
  ) {
    this.kind = kind;
    this.offset = offset;
    this.intro = intro;
    this.bytes = bytes;
    this.regionTag = regionTag;
    this.index = index;
    this.byTag = byTag;
    const dataStart = bytes.byteOffset + HEADER_INTRO_SIZE + ENTRY_SIZE * intro.indexCount;
    this.data = Buffer.from(bytes.buffer, dataStart, intro.dataLength);
    this.dataView = new DataView(bytes.buffer, dataStart, intro.dataLength);
  }

  /**
   * Parses the header at `offset` of `bytes` (which must hold all of it, and for the signature
   * header its padding too). `fileSize` only shapes the message when the bytes end early.
   */
  static parse(bytes: Uint8Array, offset: number, kind: HeaderKind, fileSize = bytes.length): RpmHeader {
    const intro = readHeaderIntro(bytes, offset, kind, fileSize);
    const what = headerName(kind);
    const end = offset + intro.size;
    if (bytes.length < end) throw truncated(`the ${what}`, end, bytes.length, fileSize);
    if (bytes.length < offset + intro.paddedSize) {
      throw truncated(`the ${what}'s padding to 8 bytes`, offset + intro.paddedSize, bytes.length, fileSize);
    }
    const headerBytes = bytes.subarray(offset, end);
    const index = readIndex(headerBytes, intro);
    const region = verifyRegion(headerBytes, intro, index, kind);
    const byTag = verifyEntries(headerBytes, intro, index, kind, region);
    return new RpmHeader(kind, offset, intro, headerBytes, region?.tag ?? null, index, byTag);
  }

  /** File offset just past the header (and past its padding for the signature header). */
  get end(): number {
    return this.offset + this.intro.paddedSize;
  }

  has(tag: number): boolean {
    return this.byTag.has(tag);
  }

  entry(tag: number): HeaderEntry | undefined {
    return this.byTag.get(tag);
  }

  /** Tags whose strings were not valid UTF-8 and were repaired, among those read so far. */
  get repairedTags(): number[] {
    return [...this.repaired].sort((a, b) => a - b);
  }

  /**
   * A string value: a STRING, or the first element of a STRING_ARRAY or I18NSTRING (the C locale
   * string, as rpm's copyI18NEntry returns when no translation is asked for).
   */
  string(tag: number): string | undefined {
    const entry = this.byTag.get(tag);
    if (!entry) return undefined;
    this.requireString(entry);
    const nul = this.data.indexOf(0, entry.offset);
    const decoded = decodeHeaderText(this.data, entry.offset, nul);
    if (decoded.repaired) this.repaired.add(tag);
    return decoded.text;
  }

  /** All strings of a STRING_ARRAY or I18NSTRING entry (a STRING gives one). */
  strings(tag: number): string[] | undefined {
    const entry = this.byTag.get(tag);
    if (!entry) return undefined;
    this.requireString(entry);
    const { texts, repaired } = decodeHeaderStrings(this.data, entry.offset, entry.length, entry.count);
    if (repaired) this.repaired.add(tag);
    return texts;
  }

  /**
   * All values of an integer entry as numbers: CHAR, INT8, INT16 and INT32 unsigned (as rpm's
   * rpmtdGetNumber), INT64 refused when beyond Number.MAX_SAFE_INTEGER.
   */
  numbers(tag: number): number[] | undefined {
    const entry = this.byTag.get(tag);
    return entry && this.readNumbers(entry, entry.count);
  }

  /** The first value of an integer entry (rpm's headerGetNumber). */
  number(tag: number): number | undefined {
    const entry = this.byTag.get(tag);
    return entry && this.readNumbers(entry, 1)[0];
  }

  /** The raw data of an entry (a view, not a copy). */
  binary(tag: number): Uint8Array | undefined {
    const entry = this.byTag.get(tag);
    if (!entry) return undefined;
    return this.data.subarray(entry.offset, entry.offset + entry.length);
  }

  /** "main header tag NAME (1000)" for messages. */
  describe(tag: number): string {
    return `${headerName(this.kind)} ${describeTag(tag, this.kind)}`;
  }

  private readNumbers(entry: HeaderEntry, count: number): number[] {
    const view = this.dataView;
    const values = new Array<number>(count);
    switch (entry.type) {
      case RPM_CHAR_TYPE:
      case RPM_INT8_TYPE:
        for (let i = 0; i < count; i++) values[i] = view.getUint8(entry.offset + i);
        return values;
      case RPM_INT16_TYPE:
        for (let i = 0; i < count; i++) values[i] = view.getUint16(entry.offset + 2 * i);
        return values;
      case RPM_INT32_TYPE:
        for (let i = 0; i < count; i++) values[i] = view.getUint32(entry.offset + 4 * i);
        return values;
      case RPM_INT64_TYPE:
        for (let i = 0; i < count; i++) {
          const value = view.getBigUint64(entry.offset + 8 * i);
          if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw new RpmFormatError(`${this.describe(entry.tag)} value ${value} is too large`);
          }
          values[i] = Number(value);
        }
        return values;
      default:
        throw new RpmFormatError(`${this.describe(entry.tag)} has type ${describeType(entry.type)}, expected an integer type`);
    }
  }

  private requireString(entry: HeaderEntry): void {
    if (!isStringType(entry.type)) {
      throw new RpmFormatError(`${this.describe(entry.tag)} has type ${describeType(entry.type)}, expected a string type`);
    }
  }
}

interface Region {
  tag: number;
  /** Index entries covered by the region (ril), the region tag included. */
  entryCount: number;
  /** Data store bytes covered by the region (rdl), its trailer included. */
  dataLength: number;
}

function readIndex(header: Uint8Array, intro: HeaderIntro): HeaderEntry[] {
  const view = new DataView(header.buffer, header.byteOffset + HEADER_INTRO_SIZE, ENTRY_SIZE * intro.indexCount);
  const index = new Array<HeaderEntry>(intro.indexCount);
  for (let i = 0; i < intro.indexCount; i++) {
    const at = ENTRY_SIZE * i;
    index[i] = {
      tag: view.getInt32(at),
      type: view.getUint32(at + 4),
      offset: view.getInt32(at + 8),
      count: view.getUint32(at + 12),
      length: 0,
    };
  }
  return index;
}

/**
 * hdrblobVerifyRegion: when the first entry is the expected region tag (62 in the signature header,
 * 63 in the main header), its trailer must name the same tag and cover a whole number of entries; in
 * the main header it must cover the whole header (exact_size). No region at all is a v3 header.
 */
function verifyRegion(header: Uint8Array, intro: HeaderIntro, index: HeaderEntry[], kind: HeaderKind): Region | null {
  const what = headerName(kind);
  const first = index[0];
  if (!first) throw new RpmFormatError(`${what} has no index entries`);
  const expected = kind === 'signature' ? RPMTAG_HEADERSIGNATURES : RPMTAG_HEADERIMMUTABLE;
  if (first.tag !== expected) {
    if (first.tag >= RPMTAG_HEADERIMAGE && first.tag < RPMTAG_HEADERI18NTABLE) {
      // rpm passes the expected region tag to hdrblobRead, so any other region tag (HEADERIMAGE of
      // rpmdb headers, the other header's tag) falls to hdrblobVerifyInfo's "tag < 100" check.
      throw new RpmFormatError(
        `${what} starts with region tag ${describeTag(first.tag)}; rpm reads only ${describeTag(expected)} here`,
      );
    }
    return null;
  }
  first.length = REGION_TRAILER_SIZE;
  if (first.type !== RPM_BIN_TYPE || first.count !== REGION_TRAILER_SIZE) {
    throw new RpmFormatError(`${what} region tag is malformed: type ${describeType(first.type)}, count ${first.count} (expected BIN, 16)`);
  }
  if (first.offset < 0 || first.offset + REGION_TRAILER_SIZE > intro.dataLength) {
    throw new RpmFormatError(`${what} region trailer at data offset ${first.offset} lies outside the ${intro.dataLength}-byte data store`);
  }
  const trailerView = new DataView(
    header.buffer,
    header.byteOffset + HEADER_INTRO_SIZE + ENTRY_SIZE * intro.indexCount + first.offset,
    REGION_TRAILER_SIZE,
  );
  let trailerTag = trailerView.getInt32(0);
  const trailerType = trailerView.getUint32(4);
  const trailerOffset = trailerView.getInt32(8);
  const trailerCount = trailerView.getUint32(12);
  // "Some old packages have HEADERIMAGE in signature region trailer, fix up" (lib/header.c).
  if (kind === 'signature' && trailerTag === RPMTAG_HEADERIMAGE) trailerTag = RPMTAG_HEADERSIGNATURES;
  if (trailerTag !== expected || trailerType !== RPM_BIN_TYPE || trailerCount !== REGION_TRAILER_SIZE) {
    throw new RpmFormatError(
      `${what} region trailer is malformed: tag ${trailerTag}, type ${trailerType}, count ${trailerCount} (expected ${expected}, BIN, 16)`,
    );
  }
  // The trailer's offset is minus the size of the region's index entries.
  const regionIndexBytes = -trailerOffset;
  const dataLength = first.offset + REGION_TRAILER_SIZE;
  if (regionIndexBytes <= 0 || regionIndexBytes % ENTRY_SIZE !== 0 || regionIndexBytes / ENTRY_SIZE > intro.indexCount) {
    throw new RpmFormatError(
      `${what} region trailer claims ${regionIndexBytes} bytes of index entries, not a whole number of the header's ${intro.indexCount} entries`,
    );
  }
  // hdrblobImport: a region tag at data offset 0 stands for the whole index.
  const entryCount = first.offset !== 0 ? regionIndexBytes / ENTRY_SIZE : intro.indexCount;
  if (kind === 'main' && (entryCount !== intro.indexCount || dataLength !== intro.dataLength)) {
    throw new RpmFormatError(
      `${what} region covers ${entryCount} of ${intro.indexCount} entries and ${dataLength} of ${intro.dataLength} data bytes; in a package it must cover the whole header`,
    );
  }
  return { tag: expected, entryCount, dataLength };
}

/**
 * hdrblobVerifyInfo and the size accounting of hdrblobImport/regionSwab: every entry has a known
 * type, a sane count, aligned in-range data that does not overlap the previous entry or the region
 * trailer, strings that end in a NUL; together the entries (with alignment padding and the region
 * trailer) account for exactly the data store. Returns the entries by tag: entries appended after
 * the signature region ("dribbles") replace region entries of the same tag, as headerImport does;
 * any other repeated tag is refused because rpm would pick one of the values arbitrarily.
 */
function verifyEntries(
  header: Uint8Array,
  intro: HeaderIntro,
  index: HeaderEntry[],
  kind: HeaderKind,
  region: Region | null,
): Map<number, HeaderEntry> {
  const what = headerName(kind);
  const data = Buffer.from(header.buffer, header.byteOffset + HEADER_INTRO_SIZE + ENTRY_SIZE * intro.indexCount, intro.dataLength);
  const dl = intro.dataLength;
  const byTag = new Map<number, HeaderEntry>();
  const first = region ? 1 : 0;
  let previousEnd = 0;
  let accounted = 0;
  for (let i = first; i < index.length; i++) {
    const entry = index[i]!;
    const { tag, type, offset, count } = entry;
    const label = `${what} entry ${i} (${describeTag(tag, kind)}, type ${describeType(type)}, offset ${offset}, count ${count})`;
    if (tag < RPMTAG_HEADERI18NTABLE) throw new RpmFormatError(`${label}: tag numbers below 100 are reserved for the region tag`);
    if (type === RPM_NULL_TYPE) throw new RpmFormatError(`${label}: rpm refuses NULL entries (they hold no data)`);
    if (type < RPM_MIN_TYPE || type > RPM_MAX_TYPE) throw new RpmFormatError(`${label}: unknown data type`);
    if (count < 1 || count > dl) throw new RpmFormatError(`${label}: count out of range for a ${dl}-byte data store`);
    if (type !== RPM_BIN_TYPE && count > ARRAY_MAX) throw new RpmFormatError(`${label}: more than ${ARRAY_MAX} elements`);
    if (offset < 0 || offset > dl) throw new RpmFormatError(`${label}: data offset outside the ${dl}-byte data store`);
    if (offset % typeAlign[type]! !== 0) throw new RpmFormatError(`${label}: data not aligned to ${typeAlign[type]} bytes`);
    if (offset < previousEnd) {
      throw new RpmFormatError(`${label}: data overlaps the previous entry's data, which ends at offset ${previousEnd}`);
    }
    checkTagType(entry, kind, label);
    const length = dataLength(data, type, offset, count, label);
    const end = offset + length;
    if (region && end > region.dataLength - REGION_TRAILER_SIZE && offset < region.dataLength) {
      throw new RpmFormatError(`${label}: data overlaps the region trailer`);
    }
    entry.length = length;
    previousEnd = end;
    accounted += alignPadding(type, accounted) + length;
    const inRegion = region !== null && i < region.entryCount;
    const earlier = byTag.get(tag);
    if (earlier !== undefined && (inRegion || !isRegionEntry(index, earlier, region))) {
      throw new RpmFormatError(`${what} holds ${describeTag(tag, kind)} twice`);
    }
    byTag.set(tag, entry);
  }
  if (region) accounted += REGION_TRAILER_SIZE;
  if (accounted !== dl) {
    throw new RpmFormatError(
      `${what}: the entries account for ${accounted} bytes but the data store has ${dl} (unaccounted gaps or overlaps)`,
    );
  }
  return byTag;
}

function isRegionEntry(index: HeaderEntry[], entry: HeaderEntry, region: Region | null): boolean {
  return region !== null && index.indexOf(entry) < region.entryCount;
}

/**
 * dataLength: the data's byte length, bounded by the data store. Strings must end in a NUL within
 * it; a STRING holds exactly one.
 */
function dataLength(data: Buffer, type: number, offset: number, count: number, label: string): number {
  const size = typeSizes[type]!;
  if (size > 0) {
    const length = size * count;
    if (offset + length > data.length) {
      throw new RpmFormatError(`${label}: ${length} bytes of data run past the end of the ${data.length}-byte data store`);
    }
    return length;
  }
  if (type === RPM_STRING_TYPE && count !== 1) throw new RpmFormatError(`${label}: a STRING entry must have count 1`);
  let pos = offset;
  for (let i = 0; i < count; i++) {
    const nul = pos < data.length ? data.indexOf(0, pos) : -1;
    if (nul < 0) {
      throw new RpmFormatError(`${label}: string ${i + 1} of ${count} has no NUL terminator before the end of the data store`);
    }
    pos = nul + 1;
  }
  return pos - offset;
}

/** alignDiff: padding that brings `size` to a multiple of the type's element size. */
function alignPadding(type: number, size: number): number {
  const typeSize = typeSizes[type]!;
  if (typeSize <= 1) return 0;
  const rest = size % typeSize;
  return rest === 0 ? 0 : typeSize - rest;
}

/** hdrchkTagType (main header): a known tag must carry its type; string types may stand in for one another. */
function checkTagType(entry: HeaderEntry, kind: HeaderKind, label: string): void {
  if (kind !== 'main') return;
  const expected = mainTagTypes.get(entry.tag);
  if (expected === undefined || expected === entry.type) return;
  if (isStringType(expected) && isStringType(entry.type)) return;
  throw new RpmFormatError(`${label}: rpm defines this tag as ${describeType(expected)}`);
}

function headerName(kind: HeaderKind): string {
  return kind === 'signature' ? 'signature header' : 'main header';
}

/** "truncated RPM: ..." when the file itself ends early; a plainer message when only the caller's buffer does. */
export function truncated(what: string, end: number, available: number, fileSize: number): RpmFormatError {
  if (end > fileSize) return new RpmFormatError(`truncated RPM: ${what} ends at byte ${end} but the file has ${fileSize} bytes`);
  return new RpmFormatError(`${what} ends at byte ${end} but only ${available} bytes of the file were given`);
}
