// `rpmgate token create | list | revoke` (admin only): tokens are minted with their secret printed
// once, listed without it, and revoked by id or by name.
import { tokenListShape, tokenShape, tokenSummaryShape } from '../../../common/api-shapes.ts';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface TokenSummary {
  id: number;
  name: string;
  role: string;
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
  machineId: string | null;
}

export async function tokenCreateCommand(io: CommandIo, options: { role: string; name: string }): Promise<void> {
  const { body } = await io.client.post<{ token: string; role: string; name: string }>('/api/v1/tokens', {
    role: options.role,
    name: options.name,
  }, { expect: tokenShape });
  io.out.result(body, () => body.token);
}

export async function tokenListCommand(io: CommandIo, options: { all?: boolean }): Promise<void> {
  const { body } = await io.client.get<TokenSummary[]>('/api/v1/tokens', { expect: tokenListShape });
  const shown = options.all ? body : body.filter((token) => token.revokedAt === null);
  io.out.result(shown, () => {
    if (shown.length === 0) return 'no tokens';
    const rows = [['ID', 'NAME', 'ROLE', 'CREATED', 'BY', ...(options.all ? ['REVOKED'] : []), 'HOST']];
    for (const token of shown) {
      rows.push([
        String(token.id),
        token.name,
        token.role,
        token.createdAt.slice(0, 19).replace('T', ' '),
        token.createdBy ?? '-',
        ...(options.all ? [token.revokedAt?.slice(0, 19).replace('T', ' ') ?? '-'] : []),
        token.machineId ?? '-',
      ]);
    }
    return table(rows);
  });
}

/** Revokes by id, or by name when exactly one live token has it. */
export async function tokenRevokeCommand(io: CommandIo, reference: string): Promise<void> {
  let id = /^[1-9][0-9]*$/.test(reference) ? Number(reference) : null;
  if (id === null) {
    const { body } = await io.client.get<TokenSummary[]>('/api/v1/tokens', { expect: tokenListShape });
    const live = body.filter((token) => token.name === reference && token.revokedAt === null);
    if (live.length === 0) throw new RpmgateError('not_found', `no live token named ${reference} (rpmgate token list shows them)`);
    if (live.length > 1) throw new RpmgateError('usage', `${live.length} live tokens are named ${reference} (ids ${live.map((t) => t.id).join(', ')}): revoke one by its id`);
    id = live[0]!.id;
  }
  const { body } = await io.client.post<TokenSummary>(`/api/v1/tokens/${id}/revoke`, {}, { expect: tokenSummaryShape });
  io.out.result(body, () => `revoked token ${body.id} (${body.name}, ${body.role}): it is refused from its next request on`);
}
