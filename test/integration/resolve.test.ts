// Dependency closure of package sets against a real PostgreSQL: which requires the set satisfies,
// what the store adds and why, and what stays unresolved. Each test names its packages with its own
// prefix, since they all share one store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPMSENSE } from '../../common/rpm/depmatch.ts';
import type { Database } from '../../server/db/connect.ts';
import { migrate } from '../../server/db/migrate.ts';
import type { Queryable } from '../../server/db/queryable.ts';
import { resolveSetDependencies, type ResolveResult } from '../../server/services/resolve.ts';
import { createTestDatabase } from '../support/database.ts';
import { insertSyntheticPackage, type SyntheticPackageSpec } from '../support/synthetic-package.ts';

let db: Database;

beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.sql);
});
afterAll(async () => {
  await db?.close();
});

interface Stored {
  id: number;
  nevra: string;
}

async function put(spec: SyntheticPackageSpec): Promise<Stored> {
  const row = await insertSyntheticPackage(db.sql, spec);
  return { id: row.id, nevra: row.nevra };
}

async function resolve(members: Stored[], addMissing = true): Promise<ResolveResult> {
  return resolveSetDependencies(
    db.sql,
    members.map((m) => m.id),
    { addMissing },
  );
}

function addedNevras(result: ResolveResult): string[] {
  return result.added.map((pkg) => pkg.nevra);
}

describe('versioned requires', () => {
  it('chooses the highest version that satisfies the range (2.0 over 1.0 for >= 1.5)', async () => {
    await put({ name: 'ver-foo', version: '1.0' });
    const foo2 = await put({ name: 'ver-foo', version: '2.0' });
    await put({ name: 'ver-foo', version: '1.6' });
    const app = await put({ name: 'ver-app', requires: ['ver-foo >= 1.5'] });

    const result = await resolve([app]);

    expect(result.unresolved).toEqual([]);
    expect(result.added).toEqual([{ id: foo2.id, nevra: 'ver-foo-2.0-1.x86_64', levelRank: 0, mirror: null, reason: { requiredBy: 'ver-app-1.0-1.x86_64', requirement: 'ver-foo >= 1.5' } }]);
  });

  it('respects an upper bound', async () => {
    await put({ name: 'ver-bar', version: '1.0' });
    await put({ name: 'ver-bar', version: '1.9' });
    await put({ name: 'ver-bar', version: '2.0' });
    const app = await put({ name: 'ver-upper', requires: ['ver-bar < 2.0'] });

    expect(addedNevras(await resolve([app]))).toEqual(['ver-bar-1.9-1.x86_64']);
  });

  it('matches EQ with an epoch only against that epoch', async () => {
    await put({ name: 'ver-epoch', version: '2.0' });
    await put({ name: 'ver-epoch', epoch: 1, version: '2.0', release: '1', arch: 'noarch' });
    await put({ name: 'ver-epoch', epoch: 1, version: '3.0' });
    await put({ name: 'ver-epoch', epoch: 2, version: '1.0' });
    const app = await put({ name: 'ver-epoch-app', requires: ['ver-epoch = 1:2.0-1'] });

    expect(addedNevras(await resolve([app]))).toEqual(['ver-epoch-1:2.0-1.noarch']);
  });

  it('treats a release-less version as any release of it, and picks the highest release', async () => {
    await put({ name: 'ver-norel', version: '2.0', release: '1' });
    await put({ name: 'ver-norel', version: '2.0', release: '3' });
    await put({ name: 'ver-norel', version: '2.1', release: '1' });
    const app = await put({ name: 'ver-norel-app', requires: ['ver-norel = 2.0'] });

    expect(addedNevras(await resolve([app]))).toEqual(['ver-norel-2.0-3.x86_64']);
  });

  it('uses the versions of explicit provides, not only package EVRs', async () => {
    await put({ name: 'ver-compat', version: '9.0', provides: ['ver-api = 1.0'] });
    const good = await put({ name: 'ver-impl', version: '0.5', provides: ['ver-api = 2.3'] });
    const app = await put({ name: 'ver-api-app', requires: ['ver-api >= 2'] });

    expect(addedNevras(await resolve([app]))).toEqual([good.nevra]);
  });
});

describe('file requires', () => {
  it('is satisfied by a package owning the file, or by an explicit provide of the path', async () => {
    const tools = await put({ name: 'file-tools', files: ['/usr/bin/file-tool', '/usr/share/file-tools'] });
    await put({ name: 'file-other', files: ['/usr/bin/file-other'] });
    const provider = await put({ name: 'file-alt', provides: ['/opt/file/bin/run'] });
    const app = await put({ name: 'file-app', requires: ['/usr/bin/file-tool', '/opt/file/bin/run'] });

    const result = await resolve([app]);

    expect(result.unresolved).toEqual([]);
    expect(result.added.map((a) => [a.nevra, a.reason.requirement])).toEqual([
      [provider.nevra, '/opt/file/bin/run'],
      [tools.nevra, '/usr/bin/file-tool'],
    ]);
  });

  it('is satisfied by a directory or ghost entry a member owns', async () => {
    const owner = await put({
      name: 'file-dirs',
      files: [
        { path: '/etc/file-dirs.d', type: 'dir' },
        { path: '/var/log/file-dirs.log', type: 'ghost' },
      ],
    });
    const app = await put({ name: 'file-dir-app', requires: ['/etc/file-dirs.d', '/var/log/file-dirs.log'] });

    expect(await resolve([app, owner], false)).toEqual({ added: [], unresolved: [] });
  });

  it('reports a path nothing owns', async () => {
    const app = await put({ name: 'file-missing-app', requires: ['/usr/bin/file-nowhere'] });

    expect((await resolve([app])).unresolved).toEqual([{ nevra: app.nevra, requirement: '/usr/bin/file-nowhere' }]);
  });
});

describe('virtual provides', () => {
  it('finds the providers of a capability by its name and picks the highest EVR', async () => {
    await put({ name: 'virt-httpd', version: '2.4', provides: ['virt-webserver'] });
    const nginx = await put({ name: 'virt-nginx', version: '3.1', provides: ['virt-webserver'] });
    const app = await put({ name: 'virt-site', arch: 'noarch', requires: ['virt-webserver', 'libvirt-x.so.1()(64bit)'] });
    const lib = await put({ name: 'virt-libx', provides: ['libvirt-x.so.1()(64bit)'] });

    const result = await resolve([app]);

    expect(result.unresolved).toEqual([]);
    expect(addedNevras(result)).toEqual([lib.nevra, nginx.nevra]);
  });

  it('breaks ties between equal EVRs by nevra, deterministically', async () => {
    await put({ name: 'tie-b', provides: ['tie-cap'] });
    const a = await put({ name: 'tie-a', provides: ['tie-cap'] });
    const app = await put({ name: 'tie-app', requires: ['tie-cap'] });

    expect(addedNevras(await resolve([app]))).toEqual([a.nevra]);
  });

  it('lets a package satisfy a require of its own name at its EVR even without an explicit provide', async () => {
    const lib = await put({ name: 'self-named', version: '3.2', release: '4' });
    const app = await put({ name: 'self-named-app', requires: ['self-named >= 3.2-4'] });

    expect(await resolve([app, lib], false)).toEqual({ added: [], unresolved: [] });
  });
});

describe('closure', () => {
  it('resolves the requires of added packages too, to a fixpoint, saying what pulled each in', async () => {
    const c = await put({ name: 'chain-c', provides: ['libchainc.so.2()(64bit)'] });
    const b = await put({ name: 'chain-b', requires: ['libchainc.so.2()(64bit)', '/usr/bin/chain-d'] });
    const d = await put({ name: 'chain-d', files: ['/usr/bin/chain-d'], requires: ['chain-b'] });
    const a = await put({ name: 'chain-a', requires: ['chain-b >= 1.0'] });

    const result = await resolve([a]);

    expect(result.unresolved).toEqual([]);
    expect(result.added).toEqual([
      { id: b.id, nevra: b.nevra, levelRank: 0, mirror: null, reason: { requiredBy: a.nevra, requirement: 'chain-b >= 1.0' } },
      { id: d.id, nevra: d.nevra, levelRank: 0, mirror: null, reason: { requiredBy: b.nevra, requirement: '/usr/bin/chain-d' } },
      { id: c.id, nevra: c.nevra, levelRank: 0, mirror: null, reason: { requiredBy: b.nevra, requirement: 'libchainc.so.2()(64bit)' } },
    ]);
  });

  it('adds nothing and reports everything when asked only to check', async () => {
    await put({ name: 'check-lib' });
    const app = await put({ name: 'check-app', requires: ['check-lib', 'check-missing >= 2.0'] });

    expect(await resolve([app], false)).toEqual({
      added: [],
      unresolved: [
        { nevra: app.nevra, requirement: 'check-lib' },
        { nevra: app.nevra, requirement: 'check-missing >= 2.0' },
      ],
    });
  });

  it('prefers what the set already holds over a newer package in the store', async () => {
    const old = await put({ name: 'held-lib', version: '1.0', provides: ['held-cap = 1.0'] });
    await put({ name: 'held-lib', version: '2.0', provides: ['held-cap = 2.0'] });
    await put({ name: 'held-other', version: '5.0', provides: ['held-cap = 5.0'] });
    const app = await put({ name: 'held-app', requires: ['held-lib', 'held-cap >= 1'] });

    expect(await resolve([app, old])).toEqual({ added: [], unresolved: [] });
  });

  it('prefers a package that is not obsolete, and takes an obsolete one only when nothing else will do', async () => {
    const obsolete = await put({ name: 'obs-lib', version: '2.0' });
    const live = await put({ name: 'obs-lib', version: '1.0' });
    const onlyObsolete = await put({ name: 'obs-only' });
    await db.sql`update packages set level_rank = -1 where id in (${obsolete.id}, ${onlyObsolete.id})`;
    const app = await put({ name: 'obs-app', requires: ['obs-lib', 'obs-only'] });

    expect(addedNevras(await resolve([app]))).toEqual([live.nevra, onlyObsolete.nevra]);
  });

  it('reports unresolvable requirements precisely, and keeps resolving the rest', async () => {
    await put({ name: 'unres-bar', version: '1.0' });
    const ok = await put({ name: 'unres-ok' });
    const app = await put({
      name: 'unres-app',
      requires: ['unres-bar >= 2.0', 'libunres.so.1()(64bit)', 'unres-ok', '(unres-x and)', '(unres-y or unres-z >= 1)'],
    });
    const other = await put({ name: 'unres-dep', arch: 'noarch', requires: ['unres-bar > 1.0'] });

    const result = await resolve([other, app]);

    expect(addedNevras(result)).toEqual([ok.nevra]);
    expect(result.unresolved).toEqual([
      { nevra: app.nevra, requirement: '(unres-x and)' },
      { nevra: app.nevra, requirement: '(unres-y or unres-z >= 1)' },
      { nevra: app.nevra, requirement: 'libunres.so.1()(64bit)' },
      { nevra: app.nevra, requirement: 'unres-bar >= 2.0' },
      { nevra: other.nevra, requirement: 'unres-bar > 1.0' },
    ]);
  });

  it('refuses unknown package ids', async () => {
    await expect(resolveSetDependencies(db.sql, [987654321], { addMissing: true })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('requires that are not checked', () => {
  it('skips rpmlib() requires, with or without the RPMLIB flag', async () => {
    const app = await put({
      name: 'rpmlib-app',
      requires: [
        { name: 'rpmlib(CompressedFileNames)', flags: RPMSENSE.LESS | RPMSENSE.EQUAL | RPMSENSE.RPMLIB, evr: '3.0.4-1' },
        'rpmlib(PayloadIsZstd) <= 5.4.18-1',
        '(rpmlib(RichDependencies) or rpmlib(Nothing))',
      ],
    });

    expect(await resolve([app])).toEqual({ added: [], unresolved: [] });
  });

  it('skips requires the package satisfies itself (provides, files, its own name)', async () => {
    const app = await put({
      name: 'selfsat',
      version: '1.2',
      provides: ['selfsat(abi) = 1', 'config(selfsat) = 1.2-1'],
      files: ['/usr/libexec/selfsat/helper'],
      requires: ['selfsat(abi) = 1', 'config(selfsat) = 1.2-1', '/usr/libexec/selfsat/helper', 'selfsat = 1.2-1', '(selfsat(abi) with selfsat)'],
    });

    expect(await resolve([app])).toEqual({ added: [], unresolved: [] });
  });

  it('ignores the build requirements of source packages, and never adds a source package', async () => {
    const srpm = await put({ name: 'src-pkg', arch: 'src', requires: ['src-build-tool >= 9', 'src-missing-devel'] });
    await put({ name: 'src-only', arch: 'src' });
    const app = await put({ name: 'src-app', requires: ['src-only'] });

    expect(await resolve([srpm, app])).toEqual({ added: [], unresolved: [{ nevra: app.nevra, requirement: 'src-only' }] });
  });

  it('skips weak (MISSINGOK) requires', async () => {
    const app = await put({ name: 'weak-app', requires: [{ name: 'weak-nothing', flags: RPMSENSE.MISSINGOK, evr: '' }] });

    expect(await resolve([app])).toEqual({ added: [], unresolved: [] });
  });
});

describe('rich dependencies', () => {
  it('or: prefers an alternative already satisfied, else the first one the store can satisfy', async () => {
    await put({ name: 'or-x', version: '1.0' });
    const y = await put({ name: 'or-y' });
    const z = await put({ name: 'or-z' });
    const app = await put({ name: 'or-app', requires: ['(or-x >= 2 or or-y or or-z)'] });

    expect(addedNevras(await resolve([app]))).toEqual([y.nevra]);
    expect(await resolve([app, z])).toEqual({ added: [], unresolved: [] });
  });

  it('and: adds every operand', async () => {
    const a = await put({ name: 'and-a' });
    const b = await put({ name: 'and-b', version: '2.0' });
    const app = await put({ name: 'and-app', requires: ['(and-a and and-b >= 2)'] });

    const result = await resolve([app]);
    expect(result.added).toEqual([
      { id: a.id, nevra: a.nevra, levelRank: 0, mirror: null, reason: { requiredBy: app.nevra, requirement: '(and-a and and-b >= 2)' } },
      { id: b.id, nevra: b.nevra, levelRank: 0, mirror: null, reason: { requiredBy: app.nevra, requirement: '(and-a and and-b >= 2)' } },
    ]);
  });

  it('if: requires the consequent only when the condition holds in the set, else the alternative', async () => {
    const host = await put({ name: 'if-host' });
    const plugin = await put({ name: 'if-plugin' });
    const fallback = await put({ name: 'if-fallback' });
    const app = await put({ name: 'if-app', requires: ['(if-plugin if if-host)'] });
    const appElse = await put({ name: 'if-app-else', requires: ['(if-plugin if if-host else if-fallback)'] });

    expect(await resolve([app])).toEqual({ added: [], unresolved: [] });
    expect(addedNevras(await resolve([app, host]))).toEqual([plugin.nevra]);
    expect(addedNevras(await resolve([appElse]))).toEqual([fallback.nevra]);
    expect(await resolve([app, host], false)).toEqual({ added: [], unresolved: [{ nevra: app.nevra, requirement: '(if-plugin if if-host)' }] });
  });

  it('if: re-checks a condition that a package added later makes true', async () => {
    await put({ name: 'late-host' });
    const plugin = await put({ name: 'late-plugin' });
    const app = await put({ name: 'late-app', requires: ['(late-plugin if late-host)', 'late-host'] });

    expect(addedNevras(await resolve([app]))).toEqual(['late-host-1.0-1.x86_64', plugin.nevra]);
  });

  it('unless: requires the consequent only when the condition does not hold, else the alternative', async () => {
    const driverB = await put({ name: 'unless-b' });
    const driverA = await put({ name: 'unless-a' });
    const other = await put({ name: 'unless-c' });
    const app = await put({ name: 'unless-app', requires: ['(unless-a unless unless-b)'] });
    const appElse = await put({ name: 'unless-app-else', requires: ['(unless-a unless unless-b else unless-c)'] });

    expect(await resolve([app, driverB])).toEqual({ added: [], unresolved: [] });
    expect(addedNevras(await resolve([app]))).toEqual([driverA.nevra]);
    expect(addedNevras(await resolve([appElse, driverB]))).toEqual([other.nevra]);
  });

  it('with: one package must satisfy every operand; without: the first but not the second', async () => {
    await put({ name: 'with-lib', version: '3.0' });
    const featured = await put({ name: 'with-lib', version: '2.0', provides: ['with-lib(feature)'] });
    const plain = await put({ name: 'without-lib', version: '1.0' });
    await put({ name: 'without-lib', version: '2.0', provides: ['without-lib(legacy)'] });
    const app = await put({ name: 'with-app', requires: ['(with-lib with with-lib(feature))', '(without-lib without without-lib(legacy))'] });

    expect(addedNevras(await resolve([app]))).toEqual([featured.nevra, plain.nevra]);
  });

  it('nests arbitrarily, with versioned atoms', async () => {
    const gtk = await put({ name: 'nest-gtk', version: '4.2' });
    const app = await put({
      name: 'nest-app',
      requires: ['((nest-qt >= 6 or (nest-gtk >= 4 with nest-gtk < 5)) and (nest-extra if nest-nothing))'],
    });

    expect(addedNevras(await resolve([app]))).toEqual([gtk.nevra]);
  });
});

describe('arch compatibility', () => {
  it('takes the same arch or noarch for an arch-specific requirer, any arch for a noarch one', async () => {
    await put({ name: 'arch-lib', version: '2.0', arch: 'i686' });
    const x86 = await put({ name: 'arch-lib', version: '1.0', arch: 'x86_64' });
    const i686 = await put({ name: 'arch-any', version: '2.0', arch: 'i686' });
    await put({ name: 'arch-any', version: '1.0', arch: 'x86_64' });
    const noarch = await put({ name: 'arch-data', arch: 'noarch' });
    await put({ name: 'arch-foreign', arch: 'aarch64' });
    const app = await put({ name: 'arch-app', arch: 'x86_64', requires: ['arch-lib', 'arch-data', 'arch-foreign'] });
    const script = await put({ name: 'arch-script', arch: 'noarch', requires: ['arch-any'] });

    const result = await resolve([app, script]);

    expect(addedNevras(result)).toEqual([noarch.nevra, x86.nevra, i686.nevra]);
    expect(result.unresolved).toEqual([{ nevra: app.nevra, requirement: 'arch-foreign' }]);
  });
});

describe('a big set', () => {
  it('resolves 5,000 packages with ten requires each in a few batched queries', async () => {
    const size = 5000;
    const specs: SyntheticPackageSpec[] = [];
    for (let i = 0; i < size; i++) {
      const requires = [
        `libbig${(i * 7 + 1) % size}.so.1()(64bit)`,
        `libbig${(i * 13 + 2) % size}.so.1()(64bit)`,
        `big-${pad((i * 31 + 3) % size)} >= 1.0`,
        `big-cap${(i * 17 + 4) % size} >= 1.0`,
        `/usr/lib64/big/${(i * 11 + 5) % size}`,
        `/usr/bin/big-${(i * 3 + 6) % size}`,
        `(libbig${(i + 7) % size}.so.1()(64bit) or big-none)`,
        `big-${pad((i + 8) % size)}`,
        'rpmlib(CompressedFileNames) <= 3.0.4-1',
        i % 500 === 0 ? `big-extra-${i / 500} >= 1` : `libbig${(i + 9) % size}.so.1()(64bit)`,
      ];
      specs.push({
        name: `big-${pad(i)}`,
        provides: [`libbig${i}.so.1()(64bit)`, `big-cap${i} = 1.0`, `big-${pad(i)} = 1.0-1`],
        files: [`/usr/lib64/big/${i}`, `/usr/bin/big-${i}`],
        requires,
      });
    }
    // Outside the set: ten extras, each pulling in the next two levels of a small chain.
    for (let k = 0; k < 10; k++) {
      specs.push({ name: `big-extra-${k}`, requires: [`big-extra-lib${k}`] });
      specs.push({ name: `big-extra-lib${k}`, files: [`/usr/lib64/big-extra/${k}`], requires: [`/usr/lib64/big-extra/${(k + 1) % 10}`] });
    }
    const stored: Stored[] = [];
    for (let i = 0; i < specs.length; i += 50) {
      stored.push(...(await Promise.all(specs.slice(i, i + 50).map(put))));
    }
    const members = stored.slice(0, size);

    let queries = 0;
    const counting = new Proxy(db.sql, {
      apply(target, thisArg, args) {
        queries++;
        return Reflect.apply(target, thisArg, args);
      },
    }) as Queryable;
    const result = await resolveSetDependencies(
      counting,
      members.map((m) => m.id),
      { addMissing: true },
    );

    expect(result.unresolved).toEqual([]);
    expect(new Set(addedNevras(result))).toEqual(new Set(stored.slice(size).map((s) => s.nevra)));
    // Two to load the set (packages, distinct requires), then at most six per round (members' provides of new
    // names, owners of new paths, requirers of what is unsatisfied, the store's providers and their packages,
    // the added packages' dependencies), whatever the set's size; the chain here is three rounds deep.
    expect(queries).toBeLessThanOrEqual(2 + 6 * 3);

    const checkOnly = await resolveSetDependencies(
      db.sql,
      members.map((m) => m.id),
      { addMissing: false },
    );
    expect(checkOnly.unresolved.map((u) => u.requirement)).toEqual(Array.from({ length: 10 }, (_, k) => `big-extra-${k} >= 1`));
  });
});

function pad(i: number): string {
  return String(i).padStart(4, '0');
}
