// rpmgate's repodata against the reference: Debian's createrepo_c 0.17 run on every valid corpus RPM
// (plus one package built here to hit the rules the corpus misses), compared entry by entry through
// parse.ts and byte for byte as whole documents.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sax from 'sax';
import { isRpmgateError } from '../../../common/errors.ts';
import type { RpmPackage } from '../../../common/rpm/package.ts';
import { readRpmFile } from '../../../common/rpm/reader.ts';
import { documentHead, documentTail, type RepodataKind } from '../../../common/repodata/document.ts';
import { renderFilelistsPackage } from '../../../common/repodata/filelists.ts';
import { renderOtherPackage } from '../../../common/repodata/other.ts';
import { iterateRepodata, readRepodata } from '../../../common/repodata/parse.ts';
import { renderPrimaryPackage } from '../../../common/repodata/primary.ts';
import { corpusAvailable, corpusPath, readCorpusTsv } from '../../support/corpus.ts';
import { createrepoVersion, runCreaterepo, type CreaterepoInput, type CreaterepoResult } from '../../support/createrepo.ts';
import { toolsRequired } from '../../support/requirements.ts';

const run = promisify(execFile);
const kinds = ['primary', 'filelists', 'other'] as const;
const missing = [...(corpusAvailable ? [] : ['../shared/corpus']), ...((await createrepoVersion()) === null ? ['createrepo_c'] : [])];
const available = missing.length === 0;
if (!available) {
  // In CI both are there (.ci/run): a comparison that ran on nothing would pass for nothing.
  if (toolsRequired) throw new Error(`the createrepo_c comparison cannot run under RPMGATE_REQUIRE_TOOLS=1 without: ${missing.join(', ')}`);
  console.warn(`\n*** ${missing.join(' and ')} missing: the createrepo_c comparison is SKIPPED ***\n`);
}

interface Rendered {
  input: CreaterepoInput;
  pkg: RpmPackage;
  pkgid: string;
  xml: Record<RepodataKind, string>;
}

// Characters createrepo_c refuses (src/xml_dump.c cr_hascontrollchars): it leaves such a package out.
const FORBIDDEN_CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F]/;

function packageStrings(pkg: RpmPackage): string[] {
  const deps = [pkg.provides, pkg.requires, pkg.conflicts, pkg.obsoletes, pkg.suggests, pkg.enhances, pkg.recommends, pkg.supplements].flat();
  return [
    pkg.name, pkg.arch, pkg.version, pkg.release, pkg.summary, pkg.description, pkg.url, pkg.license, pkg.vendor, pkg.group,
    pkg.buildhost, pkg.sourcerpm ?? '', pkg.packager,
    ...deps.flatMap((d) => [d.name, d.evr]),
    ...pkg.files.map((f) => f.path),
    ...pkg.changelogs.slice(0, 10).flatMap((c) => [c.author, c.text]),
  ];
}

/** An RPM built at test time for the rules no corpus package exercises. */
const EDGE_SPEC = `Name: rg-edge
Version: 1.0
Release: 1
Epoch: 3
Summary: Edge cases & <special> "chars"
License: MIT
Vendor: Ven & dor
URL: http://example.com/?a=1&b=2
BuildArch: noarch
Provides: rg-virtual = 2.0
Provides: selfreq
Requires: selfreq
Requires: rg-virtual = 2.0
Requires: rg-virtual >= 2.0
Requires: /usr/bin/rg-edge-tool
Requires: /usr/share/rg-edge/data
Requires: /etc/rg-edge.conf
Requires: /etc/not-ours.conf
Requires: other-pkg >= 1:2.3-4
Requires(pre): other-pkg >= 1:2.3-4
Requires(post): postdep
Requires(preun): preundep
Requires(pretrans): pretransdep
Requires: žluťoučký-kůň
Conflicts: conf < 2
Obsoletes: old-rg <= 0.9
Recommends: rec
Suggests: sug > 1
Supplements: (foo and bar)
Enhances: enh

%description
Line one with <tags> & "quotes" 'apos'
\ttabbed line ]]> end

%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc/rg-edge.d %{buildroot}/usr/share/rg-edge
echo x > %{buildroot}/usr/bin/rg-edge-tool
echo x > %{buildroot}/usr/share/rg-edge/data
echo x > "%{buildroot}/usr/share/rg-edge/a&b <c> \\"q\\".txt"
echo x > "%{buildroot}/usr/share/rg-edge/žluťoučký kůň.txt"
echo x > %{buildroot}/etc/rg-edge.conf

%files
/usr/bin/rg-edge-tool
/usr/share/rg-edge
%config /etc/rg-edge.conf
%dir /etc/rg-edge.d
%ghost /var/log/rg-edge.log

%changelog
${[
  '* Mon Jan 01 2024 Jörg Ünïcode <j@example.com> - 1.0-1\n- newest & <last>',
  '* Mon Jan 01 2024 Same Day <s@example.com> - 0.9-1\n- same day one',
  '* Mon Jan 01 2024 Same Day <s@example.com> - 0.8-1\n- same day two',
  ...Array.from({ length: 10 }, (_, i) => `* ${['Sun Dec 31', 'Sat Dec 30', 'Fri Dec 29', 'Thu Dec 28', 'Wed Dec 27', 'Tue Dec 26', 'Mon Dec 25', 'Sun Dec 24', 'Sat Dec 23', 'Fri Dec 22'][i]} 2023 A <a@example.com> - 0.0.${9 - i}-1\n- entry ${i}`),
].join('\n')}
`;

async function buildEdgePackage(dir: string): Promise<string | null> {
  const top = path.join(dir, 'rpmbuild');
  await mkdir(top, { recursive: true });
  const spec = path.join(dir, 'rg-edge.spec');
  await writeFile(spec, EDGE_SPEC);
  try {
    await run('rpmbuild', ['--quiet', '--define', `_topdir ${top}`, '-bb', spec], { env: { ...process.env, HOME: dir } });
  } catch (error) {
    if (toolsRequired) throw error;
    console.warn(`\n*** rpmbuild failed or is missing (${(error as Error).message.split('\n')[0]}): the built edge-case package is SKIPPED ***\n`);
    return null;
  }
  return path.join(top, 'RPMS', 'noarch', 'rg-edge-1.0-1.noarch.rpm');
}

describe.skipIf(!available)('repodata compared with createrepo_c 0.17', () => {
  let work = '';
  let result: CreaterepoResult;
  const rendered: Rendered[] = [];
  const reference = {} as Record<RepodataKind, string>;
  const refusedByReader: string[] = [];
  let edgeBuilt = false;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rpmgate-crc-'));
    // Every RPM rpm itself can query, once per content: byte-identical copies share a pkgid (one blob in
    // rpmgate; createrepo_c would list the copy twice under the same pkgid). Same NEVRA with other bytes
    // stays: those are distinct packages with distinct pkgids, and createrepo_c lists each.
    // Packages the reader refuses (a truncated payload) are never served, so they are left out too.
    const seen = new Set<string>();
    const candidates: CreaterepoInput[] = [];
    for (const row of readCorpusTsv('RPMS.tsv')) {
      if (row.rpm_rc !== '0' || row.kind === 'drpm' || seen.has(row.sha256!)) continue;
      seen.add(row.sha256!);
      const base = path.basename(row.path!).replace(/\.rpm(-v3)?$/, '');
      candidates.push({ source: corpusPath(row.path!), name: `${String(candidates.length).padStart(3, '0')}-${base}.rpm` });
    }
    const edge = await buildEdgePackage(work);
    edgeBuilt = edge !== null;
    if (edge) candidates.push({ source: edge, name: 'zzz-rg-edge-1.0-1.noarch.rpm' });

    const inputs: CreaterepoInput[] = [];
    const packages: RpmPackage[] = [];
    for (const input of candidates) {
      try {
        packages.push((await readRpmFile(input.source)).package);
        inputs.push(input);
      } catch (error) {
        if (!isRpmgateError(error) || error.code !== 'invalid_rpm') throw error;
        refusedByReader.push(input.name);
      }
    }

    result = await runCreaterepo(inputs);
    for (const kind of kinds) reference[kind] = gunzipSync(await readFile(result[kind])).toString('utf8');

    for (const [i, input] of inputs.entries()) {
      const pkg = packages[i]!;
      const pkgid = createHash('sha256').update(await readFile(input.source)).digest('hex');
      const fileTime = Math.floor((await stat(input.source)).mtimeMs / 1000);
      rendered.push({
        input,
        pkg,
        pkgid,
        xml: {
          primary: renderPrimaryPackage(pkg, { pkgid, locationHref: input.name, fileTime }),
          filelists: renderFilelistsPackage(pkg, pkgid),
          other: renderOtherPackage(pkg, pkgid),
        },
      });
    }
  });

  afterAll(async () => {
    await result?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('compares nearly every valid corpus RPM (the reader refuses only damaged files)', () => {
    expect(rendered.length).toBeGreaterThan(200);
    expect(refusedByReader.length).toBeLessThan(5);
    if (toolsRequired) expect(edgeBuilt).toBe(true);
    expect(rendered.some((r) => r.input.name.startsWith('zzz-rg-edge'))).toBe(edgeBuilt);
    if (refusedByReader.length > 0) console.info(`RPMs the reader refuses, left out: ${refusedByReader.join(', ')}`);
  });

  it('leaves out exactly the packages whose strings hold control characters, which rpmgate keeps (characters dropped)', async () => {
    const listed = new Set<string>();
    for await (const entry of iterateRepodata('primary', result.primary)) listed.add(entry.pkgid);
    const refused = rendered.filter((r) => !listed.has(r.pkgid));
    expect(refused.map((r) => r.input.name)).toEqual(
      rendered.filter((r) => packageStrings(r.pkg).some((s) => FORBIDDEN_CONTROL.test(s))).map((r) => r.input.name),
    );
    expect(refused.length).toBeGreaterThanOrEqual(2); // rubygem-fast_gettext (^D in a changelog), xtables-addons (^B in a provide)
    for (const r of refused) {
      for (const kind of kinds) {
        const xml = documentHead(kind, 1) + r.xml[kind] + documentTail(kind);
        expect(xml).not.toMatch(FORBIDDEN_CONTROL);
        const parser = sax.parser(true);
        parser.onerror = (error) => {
          throw error;
        };
        parser.write(xml).close();
      }
    }
  });

  it.each(kinds)('%s: every entry equals createrepo_c field by field', async (kind) => {
    const theirs = await readRepodata(kind, result[kind]);
    const ours = await readRepodata(kind, Buffer.from(documentHead(kind, rendered.length) + rendered.map((r) => r.xml[kind]).join('') + documentTail(kind)));
    expect(theirs.entries.size).toBeGreaterThan(200);
    let compared = 0;
    for (const [pkgid, entry] of theirs.entries) {
      expect(ours.entries.get(pkgid), `${kind} ${pkgid}`).toEqual(entry);
      compared++;
    }
    expect(compared).toBe(theirs.packageCount);
  });

  it.each(kinds)('%s: the assembled document is byte-identical to createrepo_c', (kind) => {
    const byPkgid = new Map(rendered.map((r) => [r.pkgid, r.xml[kind]]));
    // createrepo_c's order: the pkgids in the order it wrote them.
    const order = [...reference[kind].matchAll(/^<package (?:type="rpm">\n[^]*?<checksum [^>]*>|pkgid=")([0-9a-f]{64})/gm)].map((m) => m[1]!);
    expect(order.length).toBeGreaterThan(200);
    const ours = documentHead(kind, order.length) + order.map((pkgid) => byPkgid.get(pkgid) ?? '').join('') + documentTail(kind);
    expect(ours).toBe(reference[kind]);
  });
});
