// The step between a verified upload and the store: what file rpmgate serves for an uploaded RPM.
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import type { WrittenFile } from '../store/store.ts';

export interface ServedFile extends WrittenFile {
  /** The main header's byte range in the served file (it moves when the signature header grows). */
  headerRange: { start: number; end: number };
  /** Fingerprint of the key that signed the served file; null when served unsigned. */
  signedBy: string | null;
}

export interface PackageSigner {
  /** Returns the file to serve: a signed copy, or the upload itself. */
  prepareServedFile(upload: WrittenFile, parsed: ParsedRpm): Promise<ServedFile>;
}
