// XML hygiene for repodata text: drop what XML 1.0 cannot hold, escape the rest exactly as the
// libxml2 node dump under createrepo_c 0.17 does (xmlEscapeContent for text, xmlBufAttrSerializeTxtContent
// for attributes), so that our fragments are byte-identical to createrepo_c's.
//
// createrepo_c itself refuses a package whose strings hold control characters (src/xml_dump.c,
// cr_Package_contains_forbidden_control_chars: bytes < 32 except 9, 10, 13); rpmgate drops them instead,
// together with U+FFFE, U+FFFF and lone surrogates, which libxml2 would write out as broken XML.
// Input is already UTF-8 text: the RPM reader repairs encodings before text reaches this module.

/** Characters outside XML 1.0's Char production that a JS string can hold (a pair of surrogates is fine). */
const INVALID_CHARS =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** One test for the common case: nothing to escape and nothing to drop in element text. */
const TEXT_NEEDS_WORK = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const TEXT_SPECIALS = /[&<>\r]/g;
const textEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };

/**
 * Attributes need more: libxml2 (xmlBufAttrSerializeTxtContent, node dumped without a document
 * encoding, as createrepo_c's xmlNodeDump does) also writes `"`, tab, newline and carriage return as
 * references, and every non-ASCII character as an upper-case hexadecimal character reference (`&#xE1;`).
 */
const ATTRIBUTE_NEEDS_WORK = /[&<>"\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\u0080-\uFFFF]/;
const attributeEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** The string without the characters XML 1.0 cannot represent (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates). */
export function stripInvalidXmlChars(value: string): string {
  return value.replace(INVALID_CHARS, '');
}

/** Escape element text as createrepo_c writes it: `&`, `<`, `>` as entities, CR as `&#13;`; quotes stay. */
export function escapeXmlText(value: string): string {
  if (!TEXT_NEEDS_WORK.test(value)) return value;
  return stripInvalidXmlChars(value).replace(TEXT_SPECIALS, (ch) => textEntities[ch] ?? ch);
}

/** Escape an attribute value (for use inside double quotes) as createrepo_c writes it. */
export function escapeXmlAttribute(value: string): string {
  if (!ATTRIBUTE_NEEDS_WORK.test(value)) return value;
  let out = '';
  for (const ch of stripInvalidXmlChars(value)) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x80) {
      out += `&#x${code.toString(16).toUpperCase()};`;
    } else {
      out += attributeEntities[ch] ?? ch;
    }
  }
  return out;
}
