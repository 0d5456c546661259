// One package's <package> element of filelists.xml: every file in header order, with type="dir" or
// type="ghost" where it applies (createrepo_c 0.17 src/xml_dump_filelists.c, cr_xml_dump_files in
// src/xml_dump.c; a directory wins over the ghost flag, src/parsehdr.c).
import type { RpmPackage } from '../rpm/package.ts';
import { renderFileLine } from './primary.ts';
import { escapeXmlAttribute as attr } from './xml-escape.ts';

/** The `<package pkgid name arch>...</package>\n` element of filelists.xml, as createrepo_c writes it. */
export function renderFilelistsPackage(pkg: RpmPackage, pkgid: string): string {
  let out =
    `<package pkgid="${attr(pkgid)}" name="${attr(pkg.name)}" arch="${attr(pkg.arch)}">\n` +
    `  <version epoch="${pkg.epoch ?? 0}" ver="${attr(pkg.version)}" rel="${attr(pkg.release)}"/>\n`;
  for (const file of pkg.files) out += renderFileLine(file, '  ');
  return `${out}</package>\n`;
}
