// The step between a verified upload and the store: what file rpmgate serves for an uploaded RPM.
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import type { WrittenFile } from '../store/blob-store.ts';

export interface ServedFile extends WrittenFile {
  /** The main header's byte range in the served file (it moves when the signature header grows). */
  headerRange: { start: number; end: number };
}

export interface PackageSigner {
  /** Returns the file to serve: a signed copy, or the upload itself. */
  prepareServedFile(upload: WrittenFile, parsed: ParsedRpm): Promise<ServedFile>;
}

/** Serves uploads as they came: for a server run without signing. */
export const unsignedPackages: PackageSigner = {
  async prepareServedFile(upload, parsed) {
    return { ...upload, headerRange: parsed.package.headerRange };
  },
};
