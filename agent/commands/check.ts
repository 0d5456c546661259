// `rpmgate-agent check --set NAME/VERSION [--strict] [--extra]`: compare the installed packages with the set.
// Exit 0 when the host conforms, 1 when it drifts. The rules are common/conformance.ts, the same the
// server applies to reports.
import { compareInventory, type ConformanceResult, type PackageTuple } from '../../common/conformance.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { readHostArch, readInstalledPackages } from '../collect.ts';
import type { AgentContext } from '../context.ts';
import { RpmgateError } from '../../common/errors.ts';
import { followedSet } from './report.ts';
import { fetchSet, formatSetReference, parseSetReference, type SetDocument, type SetReference } from '../set-api.ts';

export interface CheckOptions {
  /** Default: the set the host follows (the .repo file configure wrote). */
  set?: string;
  strict?: boolean;
  /** List the packages the set does not hold (the OS, mostly), not only count them. */
  extra?: boolean;
}

export interface Conformance extends ConformanceResult {
  set: string;
  arch: string;
}

export async function checkCommand(ctx: AgentContext, options: CheckOptions): Promise<number> {
  const set = options.set ?? (await followedSet(ctx));
  if (!set) {
    throw new RpmgateError('usage', `this host follows no set (no .repo file of rpmgate-agent configure in ${ctx.reposDir}): pass --set NAME/VERSION, or configure the host first`);
  }
  const result = await checkConformance(ctx, parseSetReference(set), Boolean(options.strict));
  ctx.out.result(result, () => describeConformance(result, { listExtra: Boolean(options.extra) }));
  return result.conforming ? 0 : 1;
}

export async function checkConformance(ctx: AgentContext, ref: SetReference, strict: boolean): Promise<Conformance> {
  return compareHost(ctx, await fetchSet(ctx.client(), ref), strict);
}

/** The host's installed packages against a set already fetched. */
export async function compareHost(ctx: AgentContext, set: SetDocument, strict: boolean): Promise<Conformance> {
  const [installed, arch] = await Promise.all([readInstalledPackages(ctx.rpmRoot), readHostArch()]);
  const members = set.members
    .filter((member) => !member.source)
    .map(({ name, epoch, version, release, arch }): PackageTuple => ({ name, epoch, version, release, arch }));
  return { set: formatSetReference(set), arch, ...compareInventory(members, installed, { arch, strict }) };
}

/** One line per finding, the verdict first. Packages outside the set are listed when strict or asked for. */
export function describeConformance(result: Conformance, options: { listExtra?: boolean } = {}): string {
  const { counts } = result;
  const lines: string[] = [];
  if (result.conforming) {
    lines.push(`conforms to ${result.set}: ${counts.matched} of ${counts.expected} package(s) at the set's version`);
  } else {
    lines.push(`drifts from ${result.set}:`);
  }
  for (const pkg of result.missing) lines.push(`  missing    ${formatNevra(pkg)}`);
  for (const m of result.older) lines.push(`  older      ${formatNevra(m.installed)} (set has ${evr(m.expected)})`);
  for (const m of result.newer) lines.push(`  newer      ${formatNevra(m.installed)} (set has ${evr(m.expected)})`);
  for (const pkg of result.different) lines.push(`  different  ${formatNevra(pkg)} (not a version or arch the set holds)`);
  if (result.strict || options.listExtra) for (const pkg of result.foreign) lines.push(`  extra      ${formatNevra(pkg)}`);
  if (!result.strict && counts.foreign > 0) {
    const hint = options.listExtra ? '--strict counts them' : '--extra lists them, --strict counts them';
    lines.push(`  (${counts.foreign} other installed package(s) are not in the set: not drift; ${hint})`);
  }
  return lines.join('\n');
}

function evr(pkg: PackageTuple): string {
  return `${pkg.epoch ? `${pkg.epoch}:` : ''}${pkg.version}-${pkg.release}`;
}
