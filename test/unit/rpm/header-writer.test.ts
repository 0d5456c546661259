// The header writer (common/rpm/header-writer.ts) against rpm itself: every corpus main header that
// rpm wrote in tag order, rewritten from its parsed values, comes out byte for byte the same.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeHeader, type HeaderEntryInput } from '../../../common/rpm/header-writer.ts';
import { parseRpm } from '../../../common/rpm/reader.ts';
import * as T from '../../../common/rpm/tags.ts';
import { corpusAvailable, corpusPath, readCorpusTsv } from '../../support/corpus.ts';
import { unreadableCorpusRpms } from '../../support/corpus-rpms.ts';

const S = T.RPM_STRING_TYPE;

describe.skipIf(!corpusAvailable)('the header writer', () => {
  it('writes rpm\'s own main headers byte for byte from their values (those rpm wrote in tag order)', () => {
    let compared = 0;
    const rows = readCorpusTsv('RPMS.tsv').filter((row) => !unreadableCorpusRpms.has(row.path!));
    for (const row of rows) {
      const parsed = parseRpm(readFileSync(corpusPath(row.path!)));
      const header = parsed.mainHeader.header;
      const tags = header.index.slice(1).map((entry) => entry.tag);
      // Some rpm versions (corpus: createrepo_c's and libdnf's older test packages) left a few tags
      // out of order; the writer always sorts, as headerExport does for a fresh header.
      if (header.regionTag === null || tags.some((tag, i) => i > 0 && tag < tags[i - 1]!)) continue;
      const entries: HeaderEntryInput[] = header.index.slice(1).map((entry) => {
        const raw = header.binary(entry.tag)!;
        if (T.isStringType(entry.type)) {
          const parts: Buffer[] = [];
          let start = 0;
          for (let i = 0; i < entry.count; i++) {
            const nul = raw.indexOf(0, start);
            parts.push(Buffer.from(raw.subarray(start, nul)));
            start = nul + 1;
          }
          return { tag: entry.tag, type: entry.type, value: entry.type === S ? parts[0]! : parts };
        }
        if (entry.type === T.RPM_BIN_TYPE) return { tag: entry.tag, type: entry.type, value: raw };
        return { tag: entry.tag, type: entry.type, value: header.numbers(entry.tag)! };
      });
      const rewritten = writeHeader(entries, { region: T.RPMTAG_HEADERIMMUTABLE });
      expect(rewritten.equals(Buffer.from(parsed.mainHeader.bytes)), row.path).toBe(true);
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  });
});
