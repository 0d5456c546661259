// `rpmgate token create --role ROLE --name NAME`: mint a token (admin only); the secret is printed once.
import { tokenShape } from '../../../common/api-shapes.ts';
import type { CommandIo } from '../global-options.ts';

export async function tokenCreateCommand(io: CommandIo, options: { role: string; name: string }): Promise<void> {
  const { body } = await io.client.post<{ token: string; role: string; name: string }>('/api/v1/tokens', {
    role: options.role,
    name: options.name,
  }, { expect: tokenShape });
  io.out.result(body, () => body.token);
}
