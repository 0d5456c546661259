// One gzip member stitched from independently compressed pieces (RFC 1951 / RFC 1952): each piece is
// a raw deflate stream ended with a sync flush (byte-aligned, not final, no back-reference before its
// own start), so pieces concatenate into one valid deflate stream; the last piece ends with a final
// block. The trailer's CRC-32 is combined from the pieces' CRCs (zlib's crc32_combine), so a cached
// piece is never read again to write a new document around it.
import { constants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';

const deflateRawAsync = promisify(deflateRaw);

/** A gzip header without name, comment or time (RFC 1952 §2.3): ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=3 (Unix). */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

export interface DeflatePiece {
  /** Raw deflate data: sync-flushed (middle pieces) or finished (the last one). */
  deflated: Buffer;
  /** CRC-32 of the uncompressed bytes. */
  crc: number;
  /** Length of the uncompressed bytes. */
  length: number;
}

function zlibOptions(level: number, last: boolean) {
  return { level, memLevel: 9, chunkSize: 256 * 1024, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
}

/** Compresses a middle piece on the libuv thread pool. */
export async function deflatePiece(bytes: Buffer, level: number): Promise<DeflatePiece> {
  return { deflated: await deflateRawAsync(bytes, zlibOptions(level, false)), crc: crc32(bytes), length: bytes.length };
}

/** Compresses a small piece at once (a document's head, or its tail when `last`). */
export function deflatePieceSync(bytes: Buffer, level: number, last: boolean): DeflatePiece {
  return { deflated: deflateRawSync(bytes, zlibOptions(level, last)), crc: crc32(bytes), length: bytes.length };
}

/** The 8-byte gzip trailer: CRC-32 and the uncompressed length modulo 2^32, little-endian. */
export function gzipTrailer(crc: number, length: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return trailer;
}

// crc32_combine as zlib 1.2.12+ computes it (crc32.c multmodp / x2nmodp): CRC(A + B) from CRC(A),
// CRC(B) and len(B), by multiplying CRC(A) with x^(8·len(B)) modulo the CRC polynomial.
const POLY = 0xedb88320;

function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo p(x), k = 0..31. */
const X2N: number[] = (() => {
  const table = [0x40000000];
  for (let k = 1; k < 32; k++) table.push(multModP(table[k - 1]!, table[k - 1]!));
  return table;
})();

/** x^(n·2^k) modulo p(x). */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from crcA, crcB and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ (crcB >>> 0)) >>> 0;
}
