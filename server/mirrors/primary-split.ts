// An upstream primary.xml cut into its <package> elements without parsing them: each comes out as its
// text with the three facts a sync decides on (pkgid, arch) read by a scan. A sync parses (sax) only
// the packages it does not know yet, so an incremental sync of a 60,000-package upstream where 1%
// changed parses 600 packages, not 60,000. The cut is sound for the XML createrepo_c and every
// repository tool write (no CDATA, no comments between packages, `<` escaped in text); anything else
// fails the sync when its packages are parsed, or here when the document does not look like primary.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export interface PrimaryPackageText {
  pkgid: string;
  arch: string;
  /** The element, from `<package` to `</package>`. */
  xml: string;
}

/** The root start tag, kept to wrap packages for the parser (it declares the namespaces). */
export interface PrimaryDocumentHead {
  rootTag: string;
}

const packageOpen = /<package[\s>]/g;
const packageClose = '</package>';
const checksumText = /<checksum\b[^>]*>\s*([0-9A-Za-z]+)\s*<\/checksum>/;
const archText = /<arch>\s*([^<\s]+)\s*<\/arch>/;
const rootStart = /<metadata\b[^>]*>/;

export async function* splitPrimary(source: Readable, onHead: (head: PrimaryDocumentHead) => void): AsyncGenerator<PrimaryPackageText> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let sawRoot = false;
  let sawEnd = false;
  const take = function* (final: boolean): Generator<PrimaryPackageText> {
    if (!sawRoot) {
      const root = rootStart.exec(pending);
      if (!root) {
        if (final || pending.length > 64 * 1024) throw new Error('expected <metadata> as the root of primary metadata');
        return;
      }
      sawRoot = true;
      onHead({ rootTag: root[0] });
      pending = pending.slice(root.index + root[0].length);
    }
    for (;;) {
      packageOpen.lastIndex = 0;
      const open = packageOpen.exec(pending);
      if (!open) break;
      const close = pending.indexOf(packageClose, open.index);
      if (close < 0) {
        if (final) throw new Error('primary metadata ends inside a <package>');
        // Keep the open package for the next chunk; what came before it is whitespace between packages.
        pending = pending.slice(open.index);
        return;
      }
      const xml = pending.slice(open.index, close + packageClose.length);
      pending = pending.slice(close + packageClose.length);
      const pkgid = checksumText.exec(xml)?.[1];
      const arch = archText.exec(xml)?.[1];
      if (!pkgid || !arch) throw new Error(`a primary <package> without a checksum or an arch: ${xml.slice(0, 200)}`);
      yield { pkgid: pkgid.toLowerCase(), arch, xml };
    }
    if (pending.includes('</metadata>')) sawEnd = true;
    // Only whitespace (or the end tag) is left between packages: nothing to keep but a possible partial "<package".
    pending = pending.slice(Math.max(0, pending.length - 16));
    if (final && !sawEnd) throw new Error('primary metadata ends before </metadata>');
  };
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    yield* take(false);
  }
  pending += decoder.end();
  yield* take(true);
}

/** Packages as a document of their own, for the parser: the upstream's root tag around them. */
export function wrapPackages(head: PrimaryDocumentHead, packages: PrimaryPackageText[]): Buffer {
  return Buffer.from(`${head.rootTag}\n${packages.map((pkg) => pkg.xml).join('\n')}\n</metadata>\n`, 'utf8');
}
