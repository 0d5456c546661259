// The conformance rules of common/conformance.ts, shared by the server and the agent's check.
import { describe, expect, it } from 'vitest';
import { archRelevance, compareInventory, type PackageTuple } from '../../common/conformance.ts';
import { formatNevra } from '../../common/rpm/nevra.ts';
import { tuple } from '../support/fleet.ts';

const t = (list: string[]): PackageTuple[] => list.map(tuple);
const names = (list: PackageTuple[]) => list.map(formatNevra);

const set = t(['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64', 'libfoo-1.5-3.i686', 'tool-1.0-1.aarch64', 'app-2.0-1.src']);

describe('compareInventory', () => {
  it('a host with exactly the set (and OS packages) conforms; OS packages are foreign', () => {
    const result = compareInventory(set, t(['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64', 'bash-5.1-1.x86_64']), { arch: 'x86_64' });
    expect(result.conforming).toBe(true);
    expect(result.counts).toEqual({ expected: 3, matched: 3, missing: 0, older: 0, newer: 0, different: 0, foreign: 1 });
    expect(names(result.foreign)).toEqual(['bash-5.1-1.x86_64']);
  });

  it('strict counts foreign packages as drift', () => {
    const result = compareInventory(set, t(['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64', 'bash-5.1-1.x86_64']), {
      arch: 'x86_64',
      strict: true,
    });
    expect(result.conforming).toBe(false);
    expect(result.strict).toBe(true);
  });

  it('reports missing, older and newer members', () => {
    const result = compareInventory(set, t(['app-1.9-4.x86_64', 'app-common-2.1-1.noarch']), { arch: 'x86_64' });
    expect(names(result.missing)).toEqual(['libfoo-1.5-3.x86_64']);
    expect(result.older.map((m) => [m.name, formatNevra(m.installed)])).toEqual([['app', 'app-1.9-4.x86_64']]);
    expect(result.newer.map((m) => [m.name, formatNevra(m.installed)])).toEqual([['app-common', 'app-common-2.1-1.noarch']]);
    expect(result.conforming).toBe(false);
  });

  it('compares EVRs as rpm does: epoch first, absent epoch is 0, 1.10 > 1.9', () => {
    const members = t(['app-1.10-1.x86_64', 'lib-1:1.0-1.x86_64', 'z-1.0-1.x86_64']);
    const result = compareInventory(members, t(['app-1.9-1.x86_64', 'lib-2.0-1.x86_64', 'z-0:1.0-1.x86_64']), { arch: 'x86_64' });
    expect(result.older.map((m) => m.name)).toEqual(['app', 'lib']);
    expect(result.counts.matched).toBe(1);
  });

  it('expects members of the host arch and noarch only; another arch is not expected', () => {
    const result = compareInventory(set, t(['app-common-2.0-1.noarch']), { arch: 'aarch64' });
    expect(names(result.missing)).toEqual(['tool-1.0-1.aarch64']);
    expect(result.counts.expected).toBe(2);
  });

  it('expects a multilib i686 member on x86_64 only when that name.arch is installed', () => {
    const base = ['app-2.0-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64'];
    expect(compareInventory(set, t(base), { arch: 'x86_64' }).conforming).toBe(true);
    const right = compareInventory(set, t([...base, 'libfoo-1.5-3.i686']), { arch: 'x86_64' });
    expect(right.conforming).toBe(true);
    expect(right.counts.expected).toBe(4);
    const wrong = compareInventory(set, t([...base, 'libfoo-1.4-1.i686']), { arch: 'x86_64' });
    expect(wrong.older.map((m) => `${m.name}.${m.arch}`)).toEqual(['libfoo.i686']);
    // An i686 member on an aarch64 host is never expected.
    expect(archRelevance('i686', 'aarch64')).toBe('not_expected');
    expect(archRelevance('src', 'x86_64')).toBe('not_expected');
  });

  it('a set component installed in an arch or version the set does not hold is "different"', () => {
    const result = compareInventory(
      set,
      t(['app-2.0-1.x86_64', 'app-1.8-1.x86_64', 'app-common-2.0-1.noarch', 'libfoo-1.5-3.x86_64', 'app-common-2.0-1.x86_64', 'tool-1.0-1.x86_64']),
      { arch: 'x86_64' },
    );
    expect(names(result.different)).toEqual(['app-1.8-1.x86_64', 'app-common-2.0-1.x86_64', 'tool-1.0-1.x86_64']);
    expect(result.counts).toMatchObject({ missing: 0, older: 0, newer: 0, different: 3, foreign: 0 });
    expect(result.conforming).toBe(false);
  });

  it('pairs several versions of one name.arch (install-only kernels) in EVR order', () => {
    const members = t(['kernel-5.14-2.x86_64', 'kernel-5.14-3.x86_64']);
    const result = compareInventory(members, t(['kernel-5.14-1.x86_64', 'kernel-5.14-3.x86_64']), { arch: 'x86_64' });
    expect(result.older.map((m) => [formatNevra(m.expected), formatNevra(m.installed)])).toEqual([['kernel-5.14-2.x86_64', 'kernel-5.14-1.x86_64']]);
    expect(result.counts.matched).toBe(1);
  });

  it('source packages of the set are never expected', () => {
    const result = compareInventory(t(['app-2.0-1.src']), t(['bash-5.1-1.x86_64']), { arch: 'x86_64' });
    expect(result.counts).toMatchObject({ expected: 0, foreign: 1 });
    expect(result.conforming).toBe(true);
  });
});
