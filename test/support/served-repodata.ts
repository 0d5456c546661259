// What a repository serves over HTTP, as a dnf client reads it: repomd.xml, then the primary.xml it
// names, parsed with the createrepo_c-compatible parser (common/repodata/parse.ts).
import { parseRepomd, readRepodata, type PrimaryEntry } from '../../common/repodata/parse.ts';

/** The package entries of the primary.xml that `baseUrl`'s repomd.xml names (baseUrl ends with /). */
export async function fetchPrimaryEntries(baseUrl: string): Promise<PrimaryEntry[]> {
  const response = await fetch(`${baseUrl}repodata/repomd.xml`);
  if (response.status !== 200) throw new Error(`${baseUrl}repodata/repomd.xml: HTTP ${response.status}`);
  const repomd = await parseRepomd(Buffer.from(await response.arrayBuffer()));
  const primary = repomd.records.find((record) => record.type === 'primary');
  if (!primary) throw new Error(`${baseUrl}repodata/repomd.xml names no primary.xml`);
  const { entries } = await readRepodata('primary', Buffer.from(await (await fetch(baseUrl + primary.href)).arrayBuffer()));
  return [...entries.values()];
}
