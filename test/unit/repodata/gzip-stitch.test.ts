// One gzip member stitched from separately compressed pieces (server/repodata/gzip-stitch.ts) reads
// back as the concatenated text with gunzip, and its combined CRC-32 is zlib's.
import { randomBytes } from 'node:crypto';
import { crc32, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine, deflatePiece, deflatePieceSync, GZIP_HEADER, gzipTrailer } from '../../../server/repodata/gzip-stitch.ts';

describe('gzip stitching', () => {
  it('combines CRC-32s as zlib computes them, from empty, across pieces of any length', () => {
    const pieces = [Buffer.alloc(0), Buffer.from('a'), randomBytes(1000), randomBytes(70_000), Buffer.from('<package/>\n'.repeat(5000))];
    let crc = 0;
    for (const piece of pieces) crc = crc32Combine(crc, crc32(piece), piece.length);
    expect(crc).toBe(crc32(Buffer.concat(pieces)));
  });

  it('stitches a head, independently compressed middle pieces and a final tail into one readable member', async () => {
    const head = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<metadata packages="3">\n');
    const middles = [Buffer.from('<package>one</package>\n'.repeat(300)), randomBytes(5000), Buffer.from('<package>three</package>\n')];
    const tail = Buffer.from('</metadata>');
    const pieces = [deflatePieceSync(head, 6, false), ...(await Promise.all(middles.map((bytes) => deflatePiece(bytes, 6)))), deflatePieceSync(tail, 6, true)];
    let crc = 0;
    let length = 0;
    for (const piece of pieces) {
      crc = crc32Combine(crc, piece.crc, piece.length);
      length += piece.length;
    }
    const gzip = Buffer.concat([GZIP_HEADER, ...pieces.map((piece) => piece.deflated), gzipTrailer(crc, length)]);
    expect(gunzipSync(gzip).equals(Buffer.concat([head, ...middles, tail]))).toBe(true);
  });
});
