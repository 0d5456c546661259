// The house policies: checks over the parsed header, in TypeScript, each with a stable id (what an
// exception names), its severity from the policy, a message and the file path where one applies.
import type { RpmPackage } from '../../common/rpm/package.ts';
import type { ParsedRpm } from '../../common/rpm/reader.ts';
import { RPMTAG_FILEMODES } from '../../common/rpm/tags.ts';
import type { Finding } from './findings.ts';
import type { Policy, PolicyCheckId } from './policy.ts';
import { globToRegExp } from './glob.ts';

/** Scriptlet interpreter tags: PREINPROG … POSTTRANSPROG, and the trigger and file-trigger programs. */
const scriptletProgTags: Readonly<Record<number, string>> = {
  1085: '%pre',
  1086: '%post',
  1087: '%preun',
  1088: '%postun',
  1091: '%verifyscript',
  1092: 'a trigger',
  1153: '%pretrans',
  1154: '%posttrans',
  5066: 'a file trigger',
  5076: 'a transaction file trigger',
};

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IWOTH = 0o0002;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Characters XML 1.0 cannot hold, even escaped: C0 controls but tab, LF and CR; U+FFFE, U+FFFF. */
const xmlUnsafe = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/u;

export function runHousePolicies(parsed: ParsedRpm, policy: Policy): Finding[] {
  const findings: Finding[] = [];
  const add = (check: PolicyCheckId, message: string, path?: string) => {
    const severity = policy.severities[check];
    if (severity === 'off') return;
    findings.push(path === undefined ? { check, severity, message } : { check, severity, message, path });
  };
  const pkg = parsed.package;

  if (!pkg.license.trim()) add('required-license', 'the License tag is empty or missing');
  if (!pkg.url.trim()) add('required-url', 'the URL tag is empty or missing');
  if (!pkg.packager.trim()) add('required-packager', 'the Packager tag is empty or missing');
  if (policy.vendor !== null && pkg.vendor !== policy.vendor) {
    add('vendor-mismatch', `Vendor is "${pkg.vendor}", not the configured "${policy.vendor}"`);
  }
  if (!policy.allowedArchitectures.includes(pkg.arch)) {
    add('arch-not-allowed', `architecture ${pkg.arch} is not one of ${policy.allowedArchitectures.join(', ')}`);
  }
  if (policy.releasePattern !== null && !new RegExp(policy.releasePattern, 'u').test(pkg.release)) {
    add('release-pattern', `release "${pkg.release}" does not match ${policy.releasePattern}`);
  }
  for (const dependency of pkg.requires) {
    if (matchesName(policy.deniedDependencies, dependency.name)) add('denied-dependency', `requires ${dependency.name}, which the policy denies`);
  }
  checkFiles(parsed, policy, add);
  checkScriptlets(parsed, policy, add);
  checkXmlText(pkg, add);
  return findings;
}

type Add = (check: PolicyCheckId, message: string, path?: string) => void;

function checkFiles(parsed: ParsedRpm, policy: Policy, add: Add): void {
  const modes = parsed.mainHeader.header.numbers(RPMTAG_FILEMODES) ?? [];
  const setuidAllowed = policy.setuidAllowed.map(globToRegExp);
  parsed.package.files.forEach((file, index) => {
    const prefix = policy.forbiddenPathPrefixes.find((forbidden) => file.path === forbidden || file.path.startsWith(`${forbidden.replace(/\/+$/, '')}/`));
    if (prefix) add('forbidden-path', `a file under ${prefix}, which the policy forbids`, file.path);
    const mode = modes[index] ?? 0;
    if (mode & (S_ISUID | S_ISGID) && (mode & S_IFMT) !== S_IFLNK && !setuidAllowed.some((allowed) => allowed.test(file.path))) {
      add('setuid-file', `a ${mode & S_ISUID ? 'setuid' : 'setgid'} file (mode ${(mode & 0o7777).toString(8)})`, file.path);
    }
    // Symbolic links are 0777 by nature: their target's mode is what counts.
    if (mode & S_IWOTH && (mode & S_IFMT) !== S_IFLNK) {
      add('world-writable', `a world-writable ${file.type === 'dir' ? 'directory' : 'file'} (mode ${(mode & 0o7777).toString(8)})`, file.path);
    }
  });
}

function checkScriptlets(parsed: ParsedRpm, policy: Policy, add: Add): void {
  const header = parsed.mainHeader.header;
  for (const [tag, scriptlet] of Object.entries(scriptletProgTags)) {
    if (!header.has(Number(tag))) continue;
    // A STRING ("/bin/sh") or a STRING_ARRAY (["/bin/sh", "-e"]): the interpreter comes first.
    const interpreters = Number(tag) === 1092 || Number(tag) === 5066 || Number(tag) === 5076 ? (header.strings(Number(tag)) ?? []) : [header.strings(Number(tag))?.[0] ?? ''];
    for (const interpreter of new Set(interpreters.filter(Boolean))) {
      if (!policy.allowedInterpreters.includes(interpreter)) {
        add('scriptlet-interpreter', `${scriptlet} runs with ${interpreter}, not one of ${policy.allowedInterpreters.join(', ')}`);
      }
    }
  }
}

function checkXmlText(pkg: RpmPackage, add: Add): void {
  const fields: [string, string][] = [
    ['Name', pkg.name],
    ['Version', pkg.version],
    ['Release', pkg.release],
    ['Summary', pkg.summary],
    ['Description', pkg.description],
    ['URL', pkg.url],
    ['License', pkg.license],
    ['Vendor', pkg.vendor],
    ['Packager', pkg.packager],
    ['Group', pkg.group],
    ['SourceRPM', pkg.sourcerpm ?? ''],
  ];
  for (const kind of ['provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances'] as const) {
    for (const dependency of pkg[kind]) fields.push([`a ${kind} entry`, `${dependency.name} ${dependency.evr}`]);
  }
  pkg.changelogs.forEach((entry, index) => fields.push([`changelog entry ${index + 1}`, `${entry.author}\n${entry.text}`]));
  for (const [field, text] of fields) {
    const at = xmlUnsafe.exec(text);
    if (at) add('xml-unsafe-text', `${field} holds U+${at[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which XML 1.0 cannot hold (createrepo_c refuses such packages; dnf would see other text)`);
  }
  for (const file of pkg.files) {
    if (xmlUnsafe.test(file.path)) add('xml-unsafe-text', 'the file name holds a control character, which XML 1.0 cannot hold', JSON.stringify(file.path).slice(1, -1));
  }
}

function matchesName(patterns: string[], name: string): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(name));
}
