// The benchmark's synthetic packages: deterministic RpmPackage objects of a realistic shape (≈ 40
// files, ≈ 10 requires, 5 provides, 3 changelog entries), and the spec file that makes rpmbuild produce
// one real RPM of the same shape for createrepo_c. Package i is always the same package.
import { RPMSENSE } from '../../common/rpm/depmatch.ts';
import type { Dependency, PackageFile, RpmPackage } from '../../common/rpm/package.ts';

const stems = ['lib', 'python3', 'perl', 'golang', 'rust', 'nodejs', 'texlive', 'ghc', 'java', 'php', 'ruby', 'qt6'];
const words = ['alpha', 'bison', 'cobalt', 'delta', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'jasper', 'kelvin', 'lumen'];

const GE = RPMSENSE.GREATER | RPMSENSE.EQUAL;
const EQ = RPMSENSE.EQUAL;
const LE = RPMSENSE.LESS | RPMSENSE.EQUAL;

export function benchPackageName(index: number): string {
  return `${stems[index % stems.length]}-${words[Math.floor(index / stems.length) % words.length]}${index}`;
}

/** Package `index` of the corpus (x86_64, no epoch). */
export function benchPackage(index: number): RpmPackage {
  const name = benchPackageName(index);
  const version = `${1 + (index % 7)}.${index % 13}.${index % 5}`;
  const release = `${1 + (index % 3)}.el9`;
  const evr = `${version}-${release}`;
  const buildtime = 1_700_000_000 + index * 37;
  const other = benchPackageName((index * 7919 + 1) % 100_000);
  const requires: Dependency[] = [
    { name: '/bin/sh', flags: RPMSENSE.SCRIPT_POST, evr: '' },
    { name: `config(${name})`, flags: EQ, evr },
    { name: 'glibc', flags: GE, evr: '2.34' },
    { name: 'libc.so.6(GLIBC_2.34)(64bit)', flags: 0, evr: '' },
    { name: 'libcrypto.so.3()(64bit)', flags: 0, evr: '' },
    { name: 'libm.so.6()(64bit)', flags: 0, evr: '' },
    { name: 'libssl.so.3()(64bit)', flags: 0, evr: '' },
    { name: 'libz.so.1()(64bit)', flags: 0, evr: '' },
    { name: other, flags: GE, evr: '1.0' },
    { name: 'rpmlib(CompressedFileNames)', flags: LE | RPMSENSE.RPMLIB, evr: '3.0.4-1' },
    { name: 'rpmlib(FileDigests)', flags: LE | RPMSENSE.RPMLIB, evr: '4.6.0-1' },
    { name: 'rpmlib(PayloadFilesHavePrefix)', flags: LE | RPMSENSE.RPMLIB, evr: '4.0-1' },
    { name: 'shadow-utils', flags: RPMSENSE.SCRIPT_PRE, evr: '' },
    { name: 'systemd', flags: RPMSENSE.SCRIPT_POST, evr: '' },
  ];
  const provides: Dependency[] = [
    { name, flags: EQ, evr },
    { name: `${name}(x86-64)`, flags: EQ, evr },
    { name: `config(${name})`, flags: EQ, evr },
    { name: `${name}-api`, flags: EQ, evr: '2.0' },
    { name: `lib${name}.so.1()(64bit)`, flags: 0, evr: '' },
  ];
  return {
    name,
    epoch: null,
    version,
    release,
    arch: 'x86_64',
    isSource: false,
    sourcerpm: `${name}-${evr}.src.rpm`,
    summary: `The ${name} toolkit: parsers, codecs and command-line tools`,
    description:
      `${name} provides a library and command-line tools for reading, transforming and writing ` +
      'structured data streams. It includes plugins for the common formats, a configuration file ' +
      'for site defaults, and manual pages.\n\nThis package contains the runtime files.',
    url: `https://projects.example.org/${name}`,
    license: 'MIT AND BSD-3-Clause',
    vendor: 'Example Builds',
    group: 'Unspecified',
    packager: 'Example Build System <builds@example.org>',
    buildhost: 'build-07.example.org',
    buildtime,
    sizes: { package: 60_000 + (index % 997) * 131, installed: 250_000 + (index % 991) * 517, archive: 252_000 + (index % 991) * 517 },
    headerRange: { start: 4504, end: 12_000 + (index % 251) },
    provides,
    requires,
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: benchFiles(name),
    changelogs: [
      {
        author: `Jane Packager <jane@example.org> - ${evr}`,
        time: buildtime - 86_400,
        text: `- Update to ${version}\n- Fix a buffer over-read in the stream parser (CVE-2024-${1000 + (index % 9000)})`,
      },
      { author: 'John Builder <john@example.org> - 1.0-2', time: buildtime - 90 * 86_400, text: '- Rebuild for the new OpenSSL' },
      { author: 'Jane Packager <jane@example.org> - 1.0-1', time: buildtime - 200 * 86_400, text: '- Initial package' },
    ],
  };
}

/** 40 entries in rpm's header order (sorted paths): directories, config, binaries, plugins, data, docs, a ghost. */
function benchFiles(name: string): PackageFile[] {
  const files: PackageFile[] = [
    { path: `/etc/${name}`, type: 'dir' },
    { path: `/etc/${name}/${name}.conf`, type: 'file' },
    { path: `/usr/bin/${name}`, type: 'file' },
    { path: `/usr/bin/${name}-ctl`, type: 'file' },
    { path: `/usr/lib64/${name}`, type: 'dir' },
    { path: `/usr/lib64/lib${name}.so.1`, type: 'file' },
    { path: `/usr/lib64/lib${name}.so.1.0.0`, type: 'file' },
    { path: `/usr/share/${name}`, type: 'dir' },
    { path: `/usr/share/doc/${name}`, type: 'dir' },
    { path: `/usr/share/doc/${name}/NEWS`, type: 'file' },
    { path: `/usr/share/doc/${name}/README.md`, type: 'file' },
    { path: `/usr/share/licenses/${name}`, type: 'dir' },
    { path: `/usr/share/licenses/${name}/LICENSE`, type: 'file' },
    { path: `/usr/share/man/man1/${name}-ctl.1.gz`, type: 'file' },
    { path: `/usr/share/man/man1/${name}.1.gz`, type: 'file' },
    { path: `/usr/share/man/man5/${name}.conf.5.gz`, type: 'file' },
    { path: `/var/log/${name}.log`, type: 'ghost' },
  ];
  for (let i = 0; i < 11; i++) files.push({ path: `/usr/lib64/${name}/plugin-${String(i).padStart(2, '0')}.so`, type: 'file' });
  for (let i = 0; i < 12; i++) files.push({ path: `/usr/share/${name}/resource-${String(i).padStart(2, '0')}.dat`, type: 'file' });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A spec that rpmbuild turns into an RPM of the same shape as benchPackage(index): the same files
 * (directories, a %config file, a %ghost), explicit requires and provides (AutoReqProv off; rpm adds
 * name = evr, name(x86-64) = evr, /bin/sh for the scriptlet and its rpmlib() requires itself).
 */
export function benchSpec(index: number): string {
  const pkg = benchPackage(index);
  // rpmbuild adds these itself (the %post scriptlet brings Requires(post): /bin/sh).
  const automatic = new Set([pkg.name, `${pkg.name}(x86-64)`, '/bin/sh']);
  const lines = [
    `Name: ${pkg.name}`,
    `Version: ${pkg.version}`,
    `Release: ${pkg.release}`,
    `Summary: ${pkg.summary}`,
    `License: ${pkg.license}`,
    `URL: ${pkg.url}`,
    `Vendor: ${pkg.vendor}`,
    `Packager: ${pkg.packager}`,
    'AutoReqProv: no',
    '%global debug_package %{nil}',
    '%global __os_install_post %{nil}',
  ];
  for (const dep of pkg.requires) {
    if (dep.name.startsWith('rpmlib(') || automatic.has(dep.name)) continue;
    const tag = dep.flags & RPMSENSE.SCRIPT_PRE ? 'Requires(pre)' : dep.flags & RPMSENSE.SCRIPT_POST ? 'Requires(post)' : 'Requires';
    lines.push(`${tag}: ${dependencyText(dep)}`);
  }
  for (const dep of pkg.provides) if (!automatic.has(dep.name)) lines.push(`Provides: ${dependencyText(dep)}`);
  lines.push('', '%description', pkg.description, '', '%install');
  for (const file of pkg.files) {
    if (file.type === 'dir') lines.push(`mkdir -p %{buildroot}${file.path}`);
    if (file.type === 'file') lines.push(`mkdir -p %{buildroot}$(dirname ${file.path})`, `echo '${file.path}' > %{buildroot}${file.path}`);
  }
  lines.push('', '%post', 'true', '', '%files');
  for (const file of pkg.files) {
    if (file.type === 'dir') lines.push(`%dir ${file.path}`);
    else if (file.type === 'ghost') lines.push(`%ghost ${file.path}`);
    else if (file.path.startsWith('/etc/')) lines.push(`%config(noreplace) ${file.path}`);
    else lines.push(file.path);
  }
  lines.push('', '%changelog');
  for (const entry of pkg.changelogs) {
    const date = new Date(entry.time * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+).*$/, '$1 $3 $2 $4');
    lines.push(`* ${date} ${entry.author}`, entry.text, '');
  }
  return `${lines.join('\n')}\n`;
}

function dependencyText(dep: Dependency): string {
  const op = { [EQ]: '=', [GE]: '>=', [LE]: '<=', [RPMSENSE.LESS]: '<', [RPMSENSE.GREATER]: '>' }[dep.flags & 0xf];
  return op ? `${dep.name} ${op} ${dep.evr}` : dep.name;
}
