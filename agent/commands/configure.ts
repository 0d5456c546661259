// `rpmgate-agent configure --set NAME/VERSION`: install the set's .repo file in the repos dir.
import { RpmgateError } from '../../common/errors.ts';
import type { AgentContext } from '../context.ts';
import { decorateRepoFile, installRepoFile, repoIds } from '../repo-file.ts';
import { formatSetReference, parseSetReference, setRepoFilePath, type SetReference } from '../set-api.ts';

export interface ConfiguredSet {
  set: string;
  file: string;
  repoIds: string[];
  replaced: string[];
}

export async function configureCommand(ctx: AgentContext, options: { set: string }): Promise<number> {
  const configured = await configureSet(ctx, parseSetReference(options.set));
  ctx.out.result(configured, () =>
    [`configured ${configured.set}: ${configured.file}`, ...configured.replaced.map((file) => `  removed ${file}`)].join('\n'),
  );
  return 0;
}

/** Fetches the set's .repo file from the server and installs it (also the first step of `install`). */
export async function configureSet(ctx: AgentContext, ref: SetReference): Promise<ConfiguredSet> {
  const { body } = await ctx.client().get<unknown>(setRepoFilePath(ref), { headers: { accept: 'text/plain' }, plainText: true });
  if (typeof body !== 'string' || repoIds(body).length === 0) {
    throw new RpmgateError('internal', `the server sent no .repo file for ${formatSetReference(ref)}`);
  }
  const { text, hasSecret } = decorateRepoFile(body, ref, { token: ctx.token });
  const { file, replaced } = await installRepoFile(ctx.reposDir, ref, text, { secret: hasSecret });
  return { set: formatSetReference(ref), file, repoIds: repoIds(body), replaced };
}
