import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseRepomd } from '../../../common/repodata/parse.ts';
import { renderRepomd, repodataHref, type RepomdRecord } from '../../../common/repodata/repomd.ts';
import { corpusAvailable, corpusPath } from '../../support/corpus.ts';

const records: RepomdRecord[] = [
  {
    type: 'primary',
    checksum: '19c6759ce45b99402fb44c8616b7181f11c13554e9dafba419c25f7648335c73',
    openChecksum: '2db59dfd7a7702e66deec3d91cd4ad176a2c3742d955d7643540e1bb73bcf5c8',
    size: 2644,
    openSize: 16112,
    timestamp: 1795506501,
    href: repodataHref('19c6759ce45b99402fb44c8616b7181f11c13554e9dafba419c25f7648335c73', 'primary'),
  },
  {
    type: 'filelists',
    checksum: 'a52e34624fa5301e19fa936c82e6ebf0a1ddca985b03e417b198a7e6c10e811d',
    openChecksum: '5ab826d1099a2a53bfa40da190694bc757858f31d004af0b94214b9a0070ec71',
    size: 908,
    openSize: 2534,
    timestamp: 1795506501,
    href: repodataHref('a52e34624fa5301e19fa936c82e6ebf0a1ddca985b03e417b198a7e6c10e811d', 'filelists'),
  },
];

describe('renderRepomd', () => {
  it('lays repomd.xml out as createrepo_c 0.17.3 does', () => {
    // The first two records of a `createrepo_c --no-database` 0.17.3 run, copied byte for byte.
    expect(renderRepomd({ revision: 1795506501, records })).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1795506501</revision>
  <data type="primary">
    <checksum type="sha256">19c6759ce45b99402fb44c8616b7181f11c13554e9dafba419c25f7648335c73</checksum>
    <open-checksum type="sha256">2db59dfd7a7702e66deec3d91cd4ad176a2c3742d955d7643540e1bb73bcf5c8</open-checksum>
    <location href="repodata/19c6759ce45b99402fb44c8616b7181f11c13554e9dafba419c25f7648335c73-primary.xml.gz"/>
    <timestamp>1795506501</timestamp>
    <size>2644</size>
    <open-size>16112</open-size>
  </data>
  <data type="filelists">
    <checksum type="sha256">a52e34624fa5301e19fa936c82e6ebf0a1ddca985b03e417b198a7e6c10e811d</checksum>
    <open-checksum type="sha256">5ab826d1099a2a53bfa40da190694bc757858f31d004af0b94214b9a0070ec71</open-checksum>
    <location href="repodata/a52e34624fa5301e19fa936c82e6ebf0a1ddca985b03e417b198a7e6c10e811d-filelists.xml.gz"/>
    <timestamp>1795506501</timestamp>
    <size>908</size>
    <open-size>2534</open-size>
  </data>
</repomd>
`);
  });

  it('omits open-checksum and open-size for a record stored uncompressed', () => {
    const xml = renderRepomd({
      revision: 7,
      records: [{ type: 'group', checksum: 'ab', size: 10, timestamp: 5, href: 'repodata/ab-comps.xml' }],
    });
    expect(xml).toContain(
      '  <data type="group">\n    <checksum type="sha256">ab</checksum>\n    <location href="repodata/ab-comps.xml"/>\n' +
        '    <timestamp>5</timestamp>\n    <size>10</size>\n  </data>\n',
    );
  });

  it('reads back through parseRepomd', async () => {
    const parsed = await parseRepomd(renderRepomd({ revision: 42, records }));
    expect(parsed.revision).toBe('42');
    expect(parsed.records).toEqual(
      records.map((r) => ({
        type: r.type,
        checksum: r.checksum,
        checksumType: 'sha256',
        openChecksum: r.openChecksum,
        openChecksumType: 'sha256',
        href: r.href,
        timestamp: r.timestamp,
        size: r.size,
        openSize: r.openSize,
      })),
    );
  });
});

describe.skipIf(!corpusAvailable)('parseRepomd on createrepo_c golden files', () => {
  it('reads every record of createrepo_c repo_02', async () => {
    const parsed = await parseRepomd(await readFile(corpusPath('createrepo_c/repo_02/repodata/repomd.xml')));
    expect(parsed.revision).toBe('1334670929');
    expect(parsed.records.map((r) => r.type)).toEqual(['filelists', 'other', 'primary']);
    expect(parsed.records[2]).toEqual({
      type: 'primary',
      checksum: 'bcde64b04916a2a72fdc257d61bc922c70b3d58e953499180585f7a360ce86cf',
      checksumType: 'sha256',
      openChecksum: 'a93dfbbab1d02b0d3a49a000a6d0970dd6529f0e2897c434d67d97da2624e3a0',
      openChecksumType: 'sha256',
      href: 'repodata/bcde64b04916a2a72fdc257d61bc922c70b3d58e953499180585f7a360ce86cf-primary.xml.gz',
      timestamp: 1334670929,
      size: 973,
      openSize: 3252,
    });
  });

  it('refuses a document that is not repomd.xml', async () => {
    await expect(parseRepomd('<metadata packages="0"/>')).rejects.toThrow(/repomd/);
  });
});
