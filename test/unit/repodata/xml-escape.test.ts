import { describe, expect, it } from 'vitest';
import sax from 'sax';
import { escapeXmlAttribute, escapeXmlText, stripInvalidXmlChars } from '../../../common/repodata/xml-escape.ts';

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Parse `<doc a="...">...</doc>` strictly with sax and return the attribute and the text it holds. */
function parseBack(xml: string): { attribute: string; text: string } {
  let attribute = '';
  let text = '';
  const parser = sax.parser(true);
  parser.onerror = (error) => {
    throw error;
  };
  parser.onopentag = (tag) => {
    attribute = String(tag.attributes.a);
  };
  parser.ontext = (t) => {
    text += t;
  };
  parser.write(xml).close();
  return { attribute, text };
}

const hostile = [
  'plain ascii',
  '<script>alert("x")</script>',
  'a & b && c &amp; &#x41; &lt;',
  `quotes " and ' and ]]> and <![CDATA[ x ]]>`,
  'tab\there, newline\nthere, cr\rthere, crlf\r\n',
  'controls \x00\x01\x02\x07\x08\x0B\x0C\x0E\x1B\x1F end',
  'del \x7F stays',
  'nonchars \uFFFE\uFFFF gone',
  'lone high \uD800 and lone low \uDC00 and reversed \uDC00\uD800 gone',
  'pair 😀 \uD83D\uDE00 kept',
  'non-ASCII: Žluťoučký kůň, ÄÖÜß, 日本語, עברית, \u00A0nbsp, \u2028ls',
  '',
  '&',
  '\x00',
];

const dropped = (s: string) => s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');

describe('escapeXmlText / escapeXmlAttribute', () => {
  it.each(hostile)('produce well-formed XML that reads back as the input minus dropped characters: %j', (value) => {
    const xml = `<doc a="${escapeXmlAttribute(value)}">${escapeXmlText(value)}</doc>`;
    expect(xml).not.toMatch(NOT_XML_CHAR);
    const back = parseBack(xml);
    expect(back.attribute).toBe(dropped(value));
    // A parser normalizes a literal CR (and CRLF) in text to LF; createrepo_c writes CR as &#13; so it survives.
    expect(back.text).toBe(dropped(value));
  });

  it('leave strings with nothing to escape untouched (same string back)', () => {
    const value = 'glibc-2.28-225.el8.x86_64 /usr/bin/ls "quoted" \'single\' tab\tnewline\n';
    expect(escapeXmlText(value)).toBe(value);
    expect(escapeXmlAttribute('libc.so.6(GLIBC_2.14)(64bit)')).toBe('libc.so.6(GLIBC_2.14)(64bit)');
  });

  it('escape text as libxml2 xmlEscapeContent: & < > and CR only, UTF-8 kept', () => {
    expect(escapeXmlText(`a&b<c>d"e'f\rg\th\ni é`)).toBe(`a&amp;b&lt;c&gt;d"e'f&#13;g\th\ni é`);
  });

  it('escape attributes as libxml2 does without a document encoding: quotes, whitespace and non-ASCII as references', () => {
    expect(escapeXmlAttribute(`a&b<c>d"e'f`)).toBe(`a&amp;b&lt;c&gt;d&quot;e'f`);
    expect(escapeXmlAttribute('\t\n\r')).toBe('&#9;&#10;&#13;');
    expect(escapeXmlAttribute('Tomáš Mlčoch')).toBe('Tom&#xE1;&#x161; Ml&#x10D;och');
    expect(escapeXmlAttribute('😀')).toBe('&#x1F600;');
  });

  it('drop exactly what XML 1.0 cannot hold', () => {
    expect(stripInvalidXmlChars('a\x00b\x1Fc\x7Fd\uFFFEe\uFFFFf\uFFFDg')).toBe('abc\x7Fdef\uFFFDg');
    expect(stripInvalidXmlChars('x\uD800y\uDFFFz\uD83D\uDE00')).toBe('xyz\uD83D\uDE00');
    expect(escapeXmlText('a\x01&')).toBe('a&amp;');
    expect(escapeXmlAttribute('\uDC00é\x02')).toBe('&#xE9;');
  });

  it('is fast on the common nothing-to-escape case', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => `/usr/share/doc/package-${i}/README.md`);
    const start = performance.now();
    let total = 0;
    for (const value of values) total += escapeXmlText(value).length + escapeXmlAttribute(value).length;
    const elapsed = performance.now() - start;
    expect(total).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(1000);
  });
});
