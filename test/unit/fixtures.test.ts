// The fixture RPMs built from test/fixtures/specs: reproducible to the byte, and carrying the
// features the specs promise, as the real rpm reads them. Every rpm call gets a private HOME and
// --dbpath so that the host's ~/.rpmdb is never created or read.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, buildFixturesInto, type FixtureSet } from '../fixtures/build-fixtures.ts';
import { RPMSENSE, isPreRequire } from '../../common/rpm/depmatch.ts';

const run = promisify(execFile);

let fixtures: FixtureSet;
let scratch: string;
let rpmEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-fixtures-test-'));
  await mkdir(path.join(scratch, 'home'));
  await writeFile(path.join(scratch, 'home', '.rpmmacros'), `%_dbpath ${path.join(scratch, 'rpmdb')}\n`);
  rpmEnv = { PATH: process.env.PATH, HOME: path.join(scratch, 'home'), LC_ALL: 'C.UTF-8' };
  fixtures = await buildFixtures();
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** `rpm -qp --qf FORMAT` on one fixture, without ever touching the host's rpmdb. */
async function query(nameOrNevra: string, format: string): Promise<string> {
  const file = fixtures.byName(nameOrNevra).path;
  const { stdout } = await run('rpm', ['-qp', '--dbpath', path.join(scratch, 'rpmdb'), '--qf', format, file], {
    env: rpmEnv,
  });
  return stdout;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('fixture set', () => {
  it('holds every binary and source package the specs describe', () => {
    expect([...fixtures.packages, ...fixtures.refusedOnEntry].filter((p) => !p.isSource).map((p) => p.nevra).sort()).toEqual([
      'rg-app-1.0-1.noarch',
      'rg-control-char-1.0-1.noarch',
      'rg-epoch-3:1.5-2.noarch',
      'rg-hello-1.0-1.noarch',
      'rg-hello-2.0-1.noarch',
      'rg-hello-2.0^git1-1.noarch',
      'rg-hello-3.0~rc1-1.noarch',
      'rg-lib-2.1-1.x86_64',
      'rg-lib-devel-2.1-1.x86_64',
      'rg-lib-doc-2.1-1.noarch',
      'rg-text-1.0-1.noarch',
      'rg-unsatisfiable-1.0-1.noarch',
      'rg-weak-1.0-1.noarch',
    ]);
    expect(fixtures.refusedOnEntry.map((p) => p.fileName).sort()).toEqual(['rg-control-char-1.0-1.noarch.rpm', 'rg-control-char-1.0-1.src.rpm']);
    expect([...fixtures.srpms, ...fixtures.refusedOnEntry.filter((p) => p.isSource).map((p) => p.path)].map((p) => path.basename(p)).sort()).toEqual([
      'rg-app-1.0-1.src.rpm',
      'rg-control-char-1.0-1.src.rpm',
      'rg-epoch-1.5-2.src.rpm',
      'rg-hello-1.0-1.src.rpm',
      'rg-hello-2.0-1.src.rpm',
      'rg-hello-2.0^git1-1.src.rpm',
      'rg-hello-3.0~rc1-1.src.rpm',
      'rg-lib-2.1-1.src.rpm',
      'rg-text-1.0-1.src.rpm',
      'rg-unsatisfiable-1.0-1.src.rpm',
      'rg-weak-1.0-1.src.rpm',
    ]);
    for (const file of [...fixtures.rpms, ...fixtures.srpms]) expect(existsSync(file)).toBe(true);
  });

  it('finds packages by name (newest), NEVRA, NVRA and file name', () => {
    expect(fixtures.byName('rg-hello').version).toBe('3.0~rc1');
    expect(fixtures.allNamed('rg-hello').map((p) => p.version)).toEqual(['1.0', '2.0', '2.0^git1', '3.0~rc1']);
    expect(fixtures.byName('rg-epoch-3:1.5-2.noarch').fileName).toBe('rg-epoch-1.5-2.noarch.rpm');
    expect(fixtures.byName('rg-epoch-1.5-2.noarch').epoch).toBe(3);
    expect(fixtures.byName('rg-hello-2.0-1.src').isSource).toBe(true);
    expect(fixtures.byName('rg-hello-2.0^git1-1.noarch.rpm').version).toBe('2.0^git1');
    expect(() => fixtures.byName('rg-nothing')).toThrow(/No fixture package/);
  });

  it('is byte-identical when built twice', async () => {
    const first = await buildFixturesInto(path.join(scratch, 'build-1'));
    const second = await buildFixturesInto(path.join(scratch, 'build-2'));
    expect(second.packages.map((p) => p.fileName)).toEqual(first.packages.map((p) => p.fileName));
    for (const [index, pkg] of first.packages.entries()) {
      expect(second.packages[index]?.sha256, pkg.fileName).toBe(pkg.sha256);
      expect(await sha256(pkg.path), pkg.fileName).toBe(pkg.sha256);
    }
    // The cached set has the same fingerprint, so it must hold the very same bytes.
    expect(fixtures.packages.map((p) => p.sha256)).toEqual(first.packages.map((p) => p.sha256));
  });
});

describe('fixture features, as rpm -qp reads them', () => {
  it('rg-epoch carries Epoch 3', async () => {
    expect(await query('rg-epoch', '%{EPOCH}:%{VERSION}-%{RELEASE}')).toBe('3:1.5-2');
  });

  it('rg-hello exists as 1.0, 2.0, 2.0^git1 and 3.0~rc1 and owns /usr/bin/rg-hello', async () => {
    for (const pkg of fixtures.allNamed('rg-hello')) {
      expect(await query(pkg.nevra, '%{VERSION}-%{RELEASE} [%{FILENAMES}]')).toBe(`${pkg.version}-1 /usr/bin/rg-hello`);
    }
  });

  it('rg-weak has every weak dependency kind and a rich require', async () => {
    expect(await query('rg-weak', '[%{RECOMMENDNAME} %{RECOMMENDFLAGS:deptype} %{RECOMMENDVERSION}]')).toContain('rg-hello');
    expect(await query('rg-weak', '%{RECOMMENDFLAGS}:%{RECOMMENDVERSION}')).toBe(
      `${RPMSENSE.GREATER | RPMSENSE.EQUAL}:2.0`,
    );
    expect(await query('rg-weak', '[%{SUGGESTNAME}]')).toBe('rg-lib-doc');
    expect(await query('rg-weak', '[%{SUPPLEMENTNAME}]')).toBe('rg-lib');
    expect(await query('rg-weak', '[%{ENHANCENAME}]')).toBe('rg-epoch');
    expect(await query('rg-weak', '[%{REQUIRENAME}\n]')).toContain('(rg-hello or rg-epoch)\n');
  });

  it('rg-lib has a ghost, a config file, owned directories and a file name with spaces', async () => {
    const files = await query('rg-lib', '[%{FILENAMES}|%{FILEFLAGS:fflags}|%{FILEMODES:perms}\n]');
    expect(files.split('\n').filter(Boolean)).toEqual([
      '/etc/rg-lib.conf|cn|-rw-r--r--',
      '/etc/rg-lib.d||drwxr-xr-x',
      '/usr/lib64/rg-lib||drwxr-xr-x',
      '/usr/lib64/rg-lib/data.bin||-rw-r--r--',
      '/usr/share/rg-lib||drwxr-xr-x',
      '/usr/share/rg-lib/file with spaces.txt||-rw-r--r--',
      '/var/log/rg-lib.log|g|-rw-r--r--',
    ]);
  });

  it('rg-lib is x86_64 with a versioned provide and shares its SRPM with its subpackages', async () => {
    expect(await query('rg-lib', '%{ARCH}')).toBe('x86_64');
    expect(await query('rg-lib', '[%{PROVIDENAME} %{PROVIDEFLAGS:depflags} %{PROVIDEVERSION}\n]')).toContain(
      'rg-lib-api = 2.1\n',
    );
    expect(await query('rg-lib-devel', '%{ARCH} [%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}]')).toContain(
      'x86_64 rg-lib = 2.1-1',
    );
    expect(await query('rg-lib-doc', '%{ARCH}')).toBe('noarch');
    for (const name of ['rg-lib', 'rg-lib-devel', 'rg-lib-doc']) {
      expect(await query(name, '%{SOURCERPM}')).toBe('rg-lib-2.1-1.src.rpm');
    }
  });

  it('rg-app requires other fixtures by version, epoch, file, and in %pre/%post', async () => {
    const requires = (await query('rg-app', '[%{REQUIREFLAGS}|%{REQUIRENAME}|%{REQUIREVERSION}\n]'))
      .split('\n')
      .filter((line) => line && !line.includes('rpmlib('))
      .map((line) => {
        const [flags = '', name, evr] = line.split('|');
        return { flags: Number(flags), name, evr };
      });
    const byName = (name: string) => requires.filter((r) => r.name === name);
    expect(byName('rg-lib-api')).toEqual([{ flags: RPMSENSE.GREATER | RPMSENSE.EQUAL, name: 'rg-lib-api', evr: '2.0' }]);
    expect(byName('/usr/bin/rg-hello')).toEqual([{ flags: 0, name: '/usr/bin/rg-hello', evr: '' }]);
    expect(byName('rg-epoch').map((r) => [r.flags, r.evr])).toEqual([
      [RPMSENSE.SCRIPT_PRE, ''],
      [RPMSENSE.GREATER | RPMSENSE.EQUAL, '3:1.0'],
    ]);
    expect(byName('rg-hello')).toEqual([
      { flags: RPMSENSE.SCRIPT_POST | RPMSENSE.GREATER | RPMSENSE.EQUAL, name: 'rg-hello', evr: '2.0' },
    ]);
    expect(requires.filter((r) => isPreRequire(r.flags)).map((r) => r.name)).toEqual(['rg-epoch', 'rg-hello']);
    expect(await query('rg-app', '[%{CONFLICTNAME} %{CONFLICTFLAGS:depflags} %{CONFLICTVERSION}]')).toBe('rg-hello < 2.0');
    expect(await query('rg-app', '[%{OBSOLETENAME} %{OBSOLETEFLAGS:depflags} %{OBSOLETEVERSION}]')).toBe('rg-oldapp < 1.1');
  });

  it('rg-text keeps XML-hostile and non-ASCII text verbatim', async () => {
    expect(await query('rg-text', '%{SUMMARY}')).toBe(`XML-hostile <summary> & "quotes" 'too' ]]> Grüße — 日本`);
    expect(await query('rg-text', '%{DESCRIPTION}')).toContain(']]> and an entity-looking &amp; that must stay');
    expect(await query('rg-text', '%{VENDOR}|%{PACKAGER}')).toBe('rpmgate <fixtures> & "friends"|Jörg Übermann <joerg@rpmgate.invalid>');
    expect(await query('rg-text', '[%{CHANGELOGNAME}\n]')).toBe(
      `Jörg Übermann <joerg@rpmgate.invalid> - 1.0-1\nO'Brien "Quote" <obrien@rpmgate.invalid> - 0.9-1\n`,
    );
    expect(await query('rg-text', '[%{CHANGELOGTEXT}\n]')).toContain('<script>alert("x")</script> & friends; end CDATA early: ]]>');
    expect(await query('rg-text', '[%{FILENAMES}\n]')).toContain("/usr/share/rg-text/<tag> & 'quote'.txt\n");
    expect(await query('rg-text', '[%{FILENAMES}\n]')).toContain('/usr/share/rg-text/Grüße — 日本.txt\n');
  });

  it('rg-control-char carries a BEL in its description', async () => {
    expect(await query('rg-control-char', '%{DESCRIPTION}')).toBe('A control character follows between brackets: [\u0007].');
  });

  it('rg-unsatisfiable requires something no fixture provides', async () => {
    expect(await query('rg-unsatisfiable', '[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]')).toContain(
      'rg-does-not-exist >= 1.0\n',
    );
  });

  it('no package requires /bin/sh (an empty installroot has none)', async () => {
    for (const pkg of fixtures.packages.filter((p) => !p.isSource)) {
      expect(await query(pkg.nevra, '[%{REQUIRENAME}\n]'), pkg.nevra).not.toMatch(/^\/bin\/sh$/m);
    }
  });

  it('source packages have no SOURCERPM and every binary names one of them', async () => {
    const sources = new Set(fixtures.srpms.map((p) => path.basename(p)));
    for (const pkg of fixtures.packages) {
      const sourcerpm = await query(pkg.fileName, '%{SOURCERPM}');
      if (pkg.isSource) expect(sourcerpm).toBe('(none)');
      else expect(sources.has(sourcerpm), `${pkg.nevra} -> ${sourcerpm}`).toBe(true);
    }
  });
});

// dnf installs into a throwaway --installroot as root (../shared/DNF-ON-DEBIAN.md); elsewhere this is skipped loudly.
const canRunDnf = process.getuid?.() === 0 && existsSync('/usr/bin/dnf') && existsSync('/usr/bin/createrepo_c');
if (!canRunDnf) console.warn('\n*** dnf, createrepo_c or root missing: the fixture install test is SKIPPED ***\n');

describe.skipIf(!canRunDnf)('fixtures with dnf', () => {
  it('installs every installable fixture into an empty root and refuses rg-unsatisfiable', async () => {
    const repo = path.join(scratch, 'dnf-repo');
    const root = path.join(scratch, 'dnf-root');
    await mkdir(repo, { recursive: true });
    await mkdir(path.join(root, 'home'), { recursive: true });
    await writeFile(path.join(root, 'home', '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
    await writeFile(path.join(scratch, 'dnf-empty.conf'), '');
    // createrepo_c refuses rg-control-char (a control character cannot be written to XML).
    for (const pkg of fixtures.packages.filter((p) => !p.isSource && p.name !== 'rg-control-char')) {
      await cp(pkg.path, path.join(repo, pkg.fileName));
    }
    await run('createrepo_c', ['--quiet', repo]);

    const env = { PATH: process.env.PATH, HOME: path.join(root, 'home'), LC_ALL: 'C.UTF-8' };
    const dnf = (...args: string[]) =>
      run(
        'dnf',
        [
          '-y',
          `--installroot=${root}`,
          '--releasever=1',
          '--noplugins',
          `--config=${path.join(scratch, 'dnf-empty.conf')}`,
          '--setopt=reposdir=/dev/null',
          `--repofrompath=fixtures,file://${repo}`,
          '--setopt=fixtures.gpgcheck=0',
          '--setopt=skip_if_unavailable=0',
          ...args,
        ],
        { env },
      );

    await dnf('install', 'rg-app', 'rg-weak', 'rg-text', 'rg-lib-devel', 'rg-lib-doc');
    const { stdout } = await run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-qa', '--qf', '%{NEVRA}\n'], { env });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual([
      'rg-app-1.0-1.noarch',
      'rg-epoch-3:1.5-2.noarch',
      'rg-hello-3.0~rc1-1.noarch',
      'rg-lib-2.1-1.x86_64',
      'rg-lib-devel-2.1-1.x86_64',
      'rg-lib-doc-2.1-1.noarch',
      'rg-text-1.0-1.noarch',
      'rg-weak-1.0-1.noarch',
    ]);
    await expect(dnf('install', 'rg-unsatisfiable')).rejects.toMatchObject({
      stderr: expect.stringContaining('nothing provides rg-does-not-exist >= 1.0'),
    });
  });
});
