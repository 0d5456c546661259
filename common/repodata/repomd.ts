// repomd.xml: the index dnf reads first, one <data> record per metadata file, laid out as
// createrepo_c 0.17 writes it (src/xml_dump_repomd.c cr_xml_dump_repomd_body / _record, dumped with
// xmlDocDumpFormatMemoryEnc: XML declaration, two-space indentation, a final newline).
import { XML_NS } from './document.ts';
import { escapeXmlAttribute as attr, escapeXmlText as text } from './xml-escape.ts';

export type RepomdRecordType = 'primary' | 'filelists' | 'other' | 'group' | 'group_gz' | 'updateinfo' | 'modules' | (string & {});

export interface RepomdRecord {
  type: RepomdRecordType;
  /** sha256 hex of the file as served (compressed). */
  checksum: string;
  /** sha256 hex of the uncompressed content; omitted for a record stored uncompressed. */
  openChecksum?: string;
  /** Bytes of the file as served. */
  size: number;
  /** Bytes of the uncompressed content; omitted for a record stored uncompressed. */
  openSize?: number;
  /** Seconds since the epoch. */
  timestamp: number;
  /** Relative to the repository base URL, e.g. repodata/<checksum>-primary.xml.gz. */
  href: string;
}

export interface Repomd {
  revision: number | string;
  records: readonly RepomdRecord[];
}

/** createrepo_c's unique file name for a metadata file (--unique-md-filenames, its default). */
export function repodataHref(checksum: string, type: string, suffix = '.xml.gz'): string {
  return `repodata/${checksum}-${type}${suffix}`;
}

function renderRecord(record: RepomdRecord): string {
  let out =
    `  <data type="${attr(record.type)}">\n` +
    `    <checksum type="sha256">${text(record.checksum)}</checksum>\n`;
  if (record.openChecksum !== undefined) {
    out += `    <open-checksum type="sha256">${text(record.openChecksum)}</open-checksum>\n`;
  }
  out +=
    `    <location href="${attr(record.href)}"/>\n` +
    `    <timestamp>${record.timestamp}</timestamp>\n` +
    `    <size>${record.size}</size>\n`;
  if (record.openSize !== undefined) out += `    <open-size>${record.openSize}</open-size>\n`;
  return `${out}  </data>\n`;
}

/** The whole repomd.xml; records are written in the order given (createrepo_c: primary, filelists, other, then the rest). */
export function renderRepomd(repomd: Repomd): string {
  let out =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<repomd xmlns="${XML_NS.repo}" xmlns:rpm="${XML_NS.rpm}">\n` +
    `  <revision>${text(String(repomd.revision))}</revision>\n`;
  for (const record of repomd.records) out += renderRecord(record);
  return `${out}</repomd>\n`;
}
