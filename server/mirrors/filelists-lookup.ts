// Which upstream packages own given paths, from the mirrors' full file lists (filelists.xml), read on
// demand as dnf 5 does: a sync records only primary's files (/etc, *bin/, as createrepo_c lists them), and
// `set create --resolve` asks here only for a path requirement that neither the store nor primary's
// files satisfy. Each mirror's filelists.xml, kept in the blob store by the last sync, is streamed once
// per question (decompressed, cut into its packages by a scan), so memory stays bounded whatever its size.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { parseRepomd } from '../../common/repodata/parse.ts';
import type { AppContext } from '../context.ts';
import type { FileOwnerRow } from '../db/resolve-queries.ts';
import { decompressStream } from './decompress.ts';

const packageClose = '</package>';
const pkgidAttribute = /<package\b[^>]*\bpkgid="([^"]+)"/;
const fileElement = /<file\b[^>]*>([^<]*)<\/file>/g;

/** Upstream binary packages (ids negated, as resolution names them) owning one of `paths`. */
export async function findUpstreamFileOwners(ctx: Pick<AppContext, 'sql' | 'store'>, paths: readonly string[]): Promise<FileOwnerRow[]> {
  if (paths.length === 0) return [];
  const wanted = new Set(paths);
  const owners: FileOwnerRow[] = [];
  const mirrors = await ctx.sql<{ id: number; repomd_xml: Buffer }[]>`select id, repomd_xml from mirrors where repomd_xml is not null order by name`;
  for (const mirror of mirrors) {
    const href = (await parseRepomd(mirror.repomd_xml)).records.find((record) => record.type === 'filelists')?.href;
    if (!href) continue;
    const [file] = await ctx.sql<{ sha256: string; size: number }[]>`
      select sha256, size from mirror_metadata_files where mirror_id = ${mirror.id} and part = 'binary' and href = ${href}`;
    if (!file) continue;
    const found = new Map<string, string[]>();
    const source = decompressStream(href, await ctx.store.read(file.sha256, { size: file.size }));
    for await (const { pkgid, owned } of ownersIn(source, wanted)) found.set(pkgid, owned);
    if (found.size === 0) continue;
    // Binary packages the store does not hold already (a stored package is that package).
    const rows = await ctx.sql<{ id: number; pkgid: string }[]>`
      select p.id, p.pkgid from mirror_packages p
      where p.mirror_id = ${mirror.id} and p.pkgid in (select unnest(${[...found.keys()]}::text[])) and not p.is_source
        and not exists (select from packages s where s.nevra = p.nevra)`;
    for (const row of rows) for (const path of found.get(row.pkgid)!) owners.push({ package_id: -row.id, path });
  }
  return owners;
}

/** The packages of a filelists.xml stream that own one of `wanted`, with the paths they own. */
async function* ownersIn(source: Readable, wanted: ReadonlySet<string>): AsyncGenerator<{ pkgid: string; owned: string[] }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const scan = function* (): Generator<{ pkgid: string; owned: string[] }> {
    let start = 0;
    for (;;) {
      const end = pending.indexOf(packageClose, start);
      if (end < 0) break;
      const element = pending.slice(start, end);
      start = end + packageClose.length;
      const owned: string[] = [];
      for (const match of element.matchAll(fileElement)) {
        const path = unescapeXml(match[1]!);
        if (wanted.has(path)) owned.push(path);
      }
      if (owned.length === 0) continue;
      const pkgid = pkgidAttribute.exec(element)?.[1];
      if (pkgid) yield { pkgid, owned };
    }
    pending = pending.slice(start);
  };
  for await (const chunk of source) {
    pending += decoder.write(chunk as Buffer);
    yield* scan();
  }
  pending += decoder.end();
  yield* scan();
}

function unescapeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(?:(amp)|(lt)|(gt)|(quot)|(apos)|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, amp, lt, gt, quot, apos, dec, hex) =>
    amp ? '&' : lt ? '<' : gt ? '>' : quot ? '"' : apos ? "'" : String.fromCodePoint(dec ? Number(dec) : parseInt(hex as string, 16)),
  );
}
