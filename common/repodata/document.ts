// The head and tail around the per-package fragments of primary.xml, filelists.xml and other.xml.
// A served document is documentHead(kind, n) + n fragments + documentTail(kind), byte for byte what
// createrepo_c 0.17 writes (src/xml_file.c: XML_PRIMARY_HEADER etc.; the root is closed without a
// final newline, and every fragment ends with "</package>\n").

export type RepodataKind = 'primary' | 'filelists' | 'other';

export const repodataKinds: readonly RepodataKind[] = ['primary', 'filelists', 'other'];

/** The namespaces createrepo_c declares (src/xml_file.h CR_XML_COMMON_NS and friends). */
export const XML_NS = {
  common: 'http://linux.duke.edu/metadata/common',
  filelists: 'http://linux.duke.edu/metadata/filelists',
  other: 'http://linux.duke.edu/metadata/other',
  repo: 'http://linux.duke.edu/metadata/repo',
  rpm: 'http://linux.duke.edu/metadata/rpm',
} as const;

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const rootOpen: Record<RepodataKind, string> = {
  primary: `<metadata xmlns="${XML_NS.common}" xmlns:rpm="${XML_NS.rpm}"`,
  filelists: `<filelists xmlns="${XML_NS.filelists}"`,
  other: `<otherdata xmlns="${XML_NS.other}"`,
};

const rootClose: Record<RepodataKind, string> = {
  primary: '</metadata>',
  filelists: '</filelists>',
  other: '</otherdata>',
};

/** Everything before the first `<package>`: the XML declaration and the root element with packages="N". */
export function documentHead(kind: RepodataKind, packageCount: number): string {
  if (!Number.isSafeInteger(packageCount) || packageCount < 0) {
    throw new RangeError(`packageCount must be a non-negative integer, got ${packageCount}`);
  }
  return `${XML_DECLARATION}${rootOpen[kind]} packages="${packageCount}">\n`;
}

/** Everything after the last `</package>\n`: the closing root tag (createrepo_c writes no newline after it). */
export function documentTail(kind: RepodataKind): string {
  return rootClose[kind];
}
