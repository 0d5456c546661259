// `rpmgate exception add | list | remove`: entry-check exceptions (admin, integ, release_manager grant).
import { exceptionListShape, exceptionShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface ExceptionView {
  id: number;
  check: string;
  package: string;
  path: string | null;
  reason: string;
  grantedBy: string;
  expires: string | null;
  untilVersion: string | null;
  state: string;
}

export interface ExceptionAddOptions {
  check: string;
  package: string;
  path?: string;
  reason: string;
  expires?: string;
  untilVersion?: string;
}

export async function exceptionAddCommand(io: CommandIo, options: ExceptionAddOptions): Promise<void> {
  const { body } = await io.client.post<ExceptionView>('/api/v1/exceptions', options, { expect: exceptionShape });
  io.out.result(body, () => `exception ${body.id}: ${describe(body)}`);
}

export async function exceptionListCommand(io: CommandIo): Promise<void> {
  const { body } = await io.client.get<ExceptionView[]>('/api/v1/exceptions', { expect: exceptionListShape });
  io.out.result(body, () => {
    if (body.length === 0) return 'no exceptions';
    const rows = [['ID', 'STATE', 'CHECK', 'PACKAGE', 'PATH', 'LIMIT', 'GRANTED BY', 'REASON']];
    for (const row of body) rows.push([String(row.id), row.state, row.check, row.package, row.path ?? '', limit(row), row.grantedBy, row.reason]);
    return table(rows);
  });
}

export async function exceptionRemoveCommand(io: CommandIo, id: string): Promise<void> {
  if (!/^[1-9]\d{0,15}$/.test(id)) throw new RpmgateError('usage', `an exception is named by its number (rpmgate exception list), not "${id}"`);
  const { body } = await io.client.request<ExceptionView>('DELETE', `/api/v1/exceptions/${id}`, { expect: exceptionShape });
  io.out.result(body, () => `removed exception ${body.id}: ${describe(body)}`);
}

function describe(row: ExceptionView): string {
  const where = row.path ? ` files ${row.path}` : '';
  const until = limit(row);
  return `${row.check} waived for ${row.package}${where}${until ? ` (${until})` : ''}: ${row.reason}`;
}

function limit(row: ExceptionView): string {
  const parts: string[] = [];
  if (row.expires) parts.push(`until ${row.expires.slice(0, 10)}`);
  if (row.untilVersion) parts.push(`versions below ${row.untilVersion}`);
  return parts.join(', ');
}
