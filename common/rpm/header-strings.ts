// Text out of header strings. rpm stores bytes and never declares an encoding; nearly everything is
// UTF-8, but packages built on old systems carry ISO-8859-x text (corpus: createrepo_c balicek-iso8859*,
// rpmlint non-utf8 el5 SRPM, pulp rpm-with-non-utf-8).
//
// Valid UTF-8 is taken as is. Anything else is repaired exactly as createrepo_c repairs it before the
// text reaches repodata (src/xml_dump.c cr_latin1_to_utf8, applied when xmlCheckUTF8 fails): bytes
// below 0x80 are kept, 0xC0-0xFF are read as ISO-8859-1, and 0x80-0xBF are dropped ("probably
// misencoded cp-1252"). Doing it here, once, gives rpmgate's repodata the bytes createrepo_c would
// write for the same package. Control characters are left alone: refusing or stripping them is the
// XML writer's business, since valid UTF-8 can carry them too.
import { isUtf8 } from 'node:buffer';

export interface DecodedText {
  text: string;
  /** True when the bytes were not valid UTF-8 and were repaired. */
  repaired: boolean;
}

/** Decodes bytes[start, end) (no NUL inside) as header text. */
export function decodeHeaderText(bytes: Buffer, start: number, end: number): DecodedText {
  const slice = bytes.subarray(start, end);
  if (isUtf8(slice)) return { text: slice.toString('utf8'), repaired: false };
  return { text: repairLatin1(slice), repaired: true };
}

/**
 * Decodes `count` consecutive NUL-terminated strings starting at bytes[start]; the caller has
 * checked that they fit. One validity check and one decode cover the whole array when it is UTF-8
 * (a NUL never sits inside a multi-byte sequence, so the pieces of valid UTF-8 are valid too).
 */
export function decodeHeaderStrings(bytes: Buffer, start: number, length: number, count: number): { texts: string[]; repaired: boolean } {
  const slice = bytes.subarray(start, start + length - 1); // without the final NUL
  if (isUtf8(slice)) {
    const texts = slice.toString('utf8').split('\0');
    return { texts: texts.length === count ? texts : texts.slice(0, count), repaired: false };
  }
  const texts: string[] = [];
  let repaired = false;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let nul = slice.indexOf(0, pos);
    if (nul < 0) nul = slice.length;
    const decoded = decodeHeaderText(slice, pos, nul);
    texts.push(decoded.text);
    repaired ||= decoded.repaired;
    pos = nul + 1;
  }
  return { texts, repaired };
}

function repairLatin1(bytes: Buffer): string {
  let text = '';
  let runStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 0x80) continue;
    text += bytes.toString('latin1', runStart, i);
    if (byte >= 0xc0) text += String.fromCharCode(byte);
    runStart = i + 1;
  }
  return text + bytes.toString('latin1', runStart);
}
