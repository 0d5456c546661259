// Writes rpm headers and leads byte for byte as rpm's headerExport (lib/header.c) and rpmLeadWrite
// (lib/rpmlead.c) lay them out: entries sorted by tag, each value aligned to its element size, the
// region tag first with its trailer after all other data. Used to build signature headers (signing)
// and test packages; it writes only well-formed headers.
import { LEAD_SIZE } from './lead.ts';
import {
  isStringType,
  RPM_BIN_TYPE,
  RPM_CHAR_TYPE,
  RPM_INT16_TYPE,
  RPM_INT32_TYPE,
  RPM_INT64_TYPE,
  RPM_INT8_TYPE,
  RPM_STRING_TYPE,
  RPMTAG_HEADERIMMUTABLE,
  RPMTAG_HEADERSIGNATURES,
  typeSizes,
} from './tags.ts';

/**
 * One entry to write. Strings are UTF-8 encoded unless given as bytes (without NUL); integers as
 * numbers (INT64 also as bigint).
 */
export interface HeaderEntryInput {
  tag: number;
  type: number;
  value: string | Uint8Array | readonly (string | Uint8Array)[] | readonly number[] | readonly bigint[];
}

export interface WriteHeaderOptions {
  /** HEADERSIGNATURES (62) or HEADERIMMUTABLE (63); null writes a v3 header without a region. */
  region: typeof RPMTAG_HEADERSIGNATURES | typeof RPMTAG_HEADERIMMUTABLE | null;
  /** Append the zero padding rpm writes after a signature header (to a multiple of 8). */
  pad?: boolean;
}

const MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

export function writeHeader(entries: readonly HeaderEntryInput[], options: WriteHeaderOptions): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const chunks: Buffer[] = [];
  const index: { tag: number; type: number; offset: number; count: number }[] = [];
  let size = 0;
  for (const entry of sorted) {
    const { data, count } = encodeValue(entry);
    const padding = alignment(entry.type, size);
    if (padding) chunks.push(Buffer.alloc(padding));
    size += padding;
    index.push({ tag: entry.tag, type: entry.type, offset: size, count });
    chunks.push(data);
    size += data.length;
  }
  if (options.region !== null) {
    const il = index.length + 1;
    const trailer = Buffer.alloc(16);
    trailer.writeInt32BE(options.region, 0);
    trailer.writeUInt32BE(RPM_BIN_TYPE, 4);
    trailer.writeInt32BE(-16 * il, 8);
    trailer.writeUInt32BE(16, 12);
    index.unshift({ tag: options.region, type: RPM_BIN_TYPE, offset: size, count: 16 });
    chunks.push(trailer);
    size += 16;
  }
  const intro = Buffer.alloc(16);
  MAGIC.copy(intro);
  intro.writeUInt32BE(index.length, 8);
  intro.writeUInt32BE(size, 12);
  const indexBytes = Buffer.alloc(16 * index.length);
  index.forEach((entry, i) => {
    indexBytes.writeInt32BE(entry.tag, 16 * i);
    indexBytes.writeUInt32BE(entry.type, 16 * i + 4);
    indexBytes.writeInt32BE(entry.offset, 16 * i + 8);
    indexBytes.writeUInt32BE(entry.count, 16 * i + 12);
  });
  const total = 16 + indexBytes.length + size;
  const padding = options.pad ? (8 - (total % 8)) % 8 : 0;
  return Buffer.concat([intro, indexBytes, ...chunks, Buffer.alloc(padding)]);
}

export interface LeadInput {
  /** 0 binary, 1 source. */
  type: 0 | 1;
  /** Written into the 66-byte name field, truncated (rpm writes the NEVR). */
  name: string;
  /** 3 (rpm 4) unless told otherwise; rpm 6 writes 4. */
  major?: number;
  archnum?: number;
  osnum?: number;
}

/** The 96-byte lead: magic, version, type, arch, name, os, signature type 5. */
export function writeLead(lead: LeadInput): Buffer {
  const bytes = Buffer.alloc(LEAD_SIZE);
  bytes.set([0xed, 0xab, 0xee, 0xdb], 0);
  bytes[4] = lead.major ?? 3;
  bytes[5] = 0;
  bytes.writeUInt16BE(lead.type, 6);
  bytes.writeUInt16BE(lead.archnum ?? 1, 8);
  bytes.write(lead.name.slice(0, 65), 10, 'latin1');
  bytes.writeUInt16BE(lead.osnum ?? 1, 76);
  bytes.writeUInt16BE(5, 78);
  return bytes;
}

function encodeValue(entry: HeaderEntryInput): { data: Buffer; count: number } {
  const { type, value } = entry;
  if (isStringType(type)) {
    const list = typeof value === 'string' || value instanceof Uint8Array ? [value] : (value as readonly (string | Uint8Array)[]);
    if (type === RPM_STRING_TYPE && list.length !== 1) throw new TypeError(`tag ${entry.tag}: a STRING holds one value`);
    const parts = list.flatMap((item) => [typeof item === 'string' ? Buffer.from(item, 'utf8') : Buffer.from(item), Buffer.alloc(1)]);
    return { data: Buffer.concat(parts), count: list.length };
  }
  if (type === RPM_BIN_TYPE) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`tag ${entry.tag}: BIN needs bytes`);
    return { data: Buffer.from(value), count: value.length };
  }
  const numbers = value as readonly (number | bigint)[];
  const size = typeSizes[type];
  if (!Array.isArray(numbers) || size === undefined || size < 1) throw new TypeError(`tag ${entry.tag}: cannot write type ${type}`);
  const data = Buffer.alloc(size * numbers.length);
  numbers.forEach((n, i) => {
    switch (type) {
      case RPM_CHAR_TYPE:
      case RPM_INT8_TYPE:
        data.writeUInt8(Number(n), i);
        break;
      case RPM_INT16_TYPE:
        data.writeUInt16BE(Number(n), 2 * i);
        break;
      case RPM_INT32_TYPE:
        data.writeUInt32BE(Number(n), 4 * i);
        break;
      case RPM_INT64_TYPE:
        data.writeBigUInt64BE(BigInt(n), 8 * i);
        break;
    }
  });
  return { data, count: numbers.length };
}

function alignment(type: number, size: number): number {
  const typeSize = typeSizes[type]!;
  if (typeSize <= 1) return 0;
  const rest = size % typeSize;
  return rest === 0 ? 0 : typeSize - rest;
}
