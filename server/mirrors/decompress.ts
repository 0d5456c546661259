// Decompression of upstream metadata as upstreams really compress it, chosen by the file name's suffix
// (createrepo_c's --compress-type names them so): .gz through node:zlib, .xz through xz-decompress
// (xz-embedded compiled to WebAssembly: Node 20 has no xz codec), .zst through fzstd (pure JavaScript:
// Node 20 has no zstd codec; Fedora compresses with zstd), anything else as it is. All stream, so a
// large primary.xml never sits in memory.
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { createRequire } from 'node:module';
import { RpmgateError } from '../../common/errors.ts';

const INFLATE_CHUNK = 256 * 1024;
// xz-decompress is a CommonJS (webpack) bundle whose exports Node's ESM loader cannot name statically.
const { XzReadableStream } = createRequire(import.meta.url)('xz-decompress') as typeof import('xz-decompress');

export type Compression = 'gz' | 'xz' | 'zst' | 'bz2' | 'none';

export function compressionOf(href: string): Compression {
  if (href.endsWith('.gz')) return 'gz';
  if (href.endsWith('.xz')) return 'xz';
  if (href.endsWith('.zst') || href.endsWith('.zstd')) return 'zst';
  if (href.endsWith('.bz2')) return 'bz2';
  return 'none';
}

/** The decompressed bytes of `source`, compressed as `href`'s suffix says. */
export function decompressStream(href: string, source: Readable): Readable {
  switch (compressionOf(href)) {
    case 'gz':
      return source.pipe(createGunzip({ chunkSize: INFLATE_CHUNK }));
    case 'xz':
      return Readable.fromWeb(new XzReadableStream(Readable.toWeb(source) as ReadableStream<Uint8Array>) as import('node:stream/web').ReadableStream<Uint8Array>);
    case 'zst':
      return source.pipe(zstdDecompressor());
    case 'bz2':
      throw new RpmgateError('upstream', `${href}: bzip2 metadata is not supported (createrepo_c writes gz, xz or zstd)`);
    case 'none':
      return source;
  }
}

function zstdDecompressor(): Transform {
  let pushChunk: ((chunk: Uint8Array) => void) | null = null;
  const inflater = new Decompress((chunk) => pushChunk?.(chunk));
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pushChunk = (out) => this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      try {
        inflater.push(chunk);
        done();
      } catch (error) {
        done(new Error(`zstd: ${(error as Error).message}`));
      }
    },
    flush(done) {
      pushChunk = (out) => this.push(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      try {
        inflater.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(new Error(`zstd: ${(error as Error).message}`));
      }
    },
  });
}
