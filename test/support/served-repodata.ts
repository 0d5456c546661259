// What a repository serves over HTTP, as a dnf client reads it: repomd.xml, then the files it names,
// each checked against its record as dnf checks it; primary.xml parsed with the createrepo_c-compatible
// parser (common/repodata/parse.ts).
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { RepodataKind } from '../../common/repodata/document.ts';
import { parseRepomd, readRepodata, type PrimaryEntry } from '../../common/repodata/parse.ts';

/** The package entries of the primary.xml that `baseUrl`'s repomd.xml names (baseUrl ends with /). */
export async function fetchPrimaryEntries(baseUrl: string): Promise<PrimaryEntry[]> {
  const primary = (await fetchRepomdFiles(baseUrl)).files.find((file) => file.type === 'primary');
  if (!primary) throw new Error(`${baseUrl}repodata/repomd.xml names no primary.xml`);
  const { entries } = await readRepodata('primary', primary.bytes);
  return [...entries.values()];
}

export interface ServedFile {
  type: string;
  href: string;
  /** The file as fetched (compressed). */
  bytes: Buffer;
  openChecksum: string | undefined;
  openSize: number | undefined;
}

/**
 * repomd.xml of `baseUrl` (ending with /) and every file it names, each fetched and checked against
 * its record: 200, sha256 and size. Throws naming the URL and what differs.
 */
export async function fetchRepomdFiles(baseUrl: string): Promise<{ repomd: Buffer; files: ServedFile[] }> {
  const response = await fetch(`${baseUrl}repodata/repomd.xml`);
  const repomd = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`${baseUrl}repodata/repomd.xml: HTTP ${response.status} ${repomd.toString('utf8').slice(0, 300)}`);
  const files: ServedFile[] = [];
  for (const record of (await parseRepomd(repomd)).records) {
    const url = baseUrl + record.href;
    const answer = await fetch(url);
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (answer.status !== 200) throw new Error(`${url}, named by repomd.xml: HTTP ${answer.status}`);
    const checksum = createHash('sha256').update(bytes).digest('hex');
    if (checksum !== record.checksum) throw new Error(`${url}: sha256 ${checksum}, repomd.xml says ${record.checksum}`);
    if (record.size !== undefined && bytes.length !== record.size) throw new Error(`${url}: ${bytes.length} bytes, repomd.xml says ${record.size}`);
    files.push({ type: record.type, href: record.href, bytes, openChecksum: record.openChecksum, openSize: record.openSize });
  }
  return { repomd, files };
}

/** The uncompressed primary, filelists and other documents `baseUrl` serves, each checked against its repomd.xml record. */
export async function fetchServedDocuments(baseUrl: string): Promise<Record<RepodataKind, string>> {
  const documents: Partial<Record<RepodataKind, string>> = {};
  for (const file of (await fetchRepomdFiles(baseUrl)).files) {
    const open = gunzipSync(file.bytes);
    const openChecksum = createHash('sha256').update(open).digest('hex');
    if (openChecksum !== file.openChecksum) throw new Error(`${baseUrl}${file.href}: open sha256 ${openChecksum}, repomd.xml says ${file.openChecksum}`);
    if (open.length !== file.openSize) throw new Error(`${baseUrl}${file.href}: ${open.length} bytes open, repomd.xml says ${file.openSize}`);
    documents[file.type as RepodataKind] = open.toString('utf8');
  }
  if (!documents.primary || !documents.filelists || !documents.other) throw new Error(`${baseUrl}repodata/repomd.xml lacks a document`);
  return documents as Record<RepodataKind, string>;
}
