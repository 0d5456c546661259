// `rpmgate package show NAME`: every stored version of a package, newest first, with the highest level
// it reached and the sets holding it: "which builds of libfoo are proven?".
import { listShape, objectShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { compareEvr } from '../../../common/rpm/vercmp.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface StoredPackage {
  nevra: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  level: string;
  sets: string[];
}

const packageListShape = listShape(
  'a list of packages',
  objectShape<StoredPackage>('a package', { nevra: 'string', version: 'string', release: 'string', arch: 'string', level: 'string', sets: 'array' }),
);

export async function packageShowCommand(io: CommandIo, name: string): Promise<void> {
  const { body } = await io.client.get<StoredPackage[]>(`/api/v1/packages?${new URLSearchParams({ name, limit: '10000' })}`, { expect: packageListShape });
  if (body.length === 0) throw new RpmgateError('not_found', `no stored package is named ${name}`);
  const sorted = [...body].sort((a, b) => compareEvr(b, a) || a.arch.localeCompare(b.arch));
  io.out.result(sorted, () =>
    table([['PACKAGE', 'LEVEL', 'SETS'], ...sorted.map((pkg) => [pkg.nevra, pkg.level, pkg.sets.length > 0 ? pkg.sets.join(', ') : '-'])]),
  );
}
