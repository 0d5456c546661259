// One package's <package> element of other.xml: the changelog, as createrepo_c 0.17 selects and writes
// it (src/parsehdr.c "Changelogs", src/xml_dump_other.c).
import type { ChangelogEntry, RpmPackage } from '../rpm/package.ts';
import { escapeXmlAttribute as attr, escapeXmlText as text } from './xml-escape.ts';

/** createrepo_c's --changelog-limit default (src/cmd_parser.h DEFAULT_CHANGELOG_LIMIT). */
export const DEFAULT_CHANGELOG_LIMIT = 10;

export interface OtherOptions {
  /** How many of the newest changelog entries to keep; -1 for all (createrepo_c's convention). */
  changelogLimit?: number;
}

/**
 * The changelog entries other.xml lists, oldest first, as cr_package_from_header builds them: the
 * `limit` newest header entries (the header is newest first), trailing spaces cut from the author
 * (never its first character), and within a run of equal times the older entries pushed one second
 * later each, so that dates are unique ("Ugly but works!").
 */
export function selectChangelogs(changelogs: readonly ChangelogEntry[], limit = DEFAULT_CHANGELOG_LIMIT): ChangelogEntry[] {
  const taken = limit < 0 ? changelogs : changelogs.slice(0, limit);
  const list: ChangelogEntry[] = []; // list[0] is the entry createrepo_c prepended last (the oldest)
  let lastTime = 0;
  for (const entry of taken) {
    list.unshift({ author: trimAuthor(entry.author), time: entry.time, text: entry.text });
    if (entry.time === lastTime) {
      let tmpTime = entry.time;
      for (let i = 1; i < list.length && list[i]!.time === tmpTime; i++) {
        list[i]!.time++;
        tmpTime++;
      }
    } else {
      lastTime = entry.time;
    }
  }
  return list;
}

function trimAuthor(author: string): string {
  let end = author.length;
  while (end > 1 && author.charCodeAt(end - 1) === 0x20) end--;
  return author.slice(0, end);
}

/** The `<package pkgid name arch>...</package>\n` element of other.xml, as createrepo_c writes it. */
export function renderOtherPackage(pkg: RpmPackage, pkgid: string, options: OtherOptions = {}): string {
  let out =
    `<package pkgid="${attr(pkgid)}" name="${attr(pkg.name)}" arch="${attr(pkg.arch)}">\n` +
    `  <version epoch="${pkg.epoch ?? 0}" ver="${attr(pkg.version)}" rel="${attr(pkg.release)}"/>\n`;
  for (const entry of selectChangelogs(pkg.changelogs, options.changelogLimit)) {
    out += `  <changelog author="${attr(entry.author)}" date="${entry.time}">${text(entry.text)}</changelog>\n`;
  }
  return `${out}</package>\n`;
}
