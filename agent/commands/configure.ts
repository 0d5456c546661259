// `rpmgate-agent configure --set NAME/VERSION`: install the set's .repo file in the repos dir.
import { RpmgateError } from '../../common/errors.ts';
import type { AgentContext } from '../context.ts';
import { decorateRepoFile, findDuplicateRepoFiles, installRepoFile, removeRepoFiles, repoIds } from '../repo-file.ts';
import { formatSetReference, parseSetReference, setRepoFilePath, type SetReference } from '../set-api.ts';

export interface ConfiguredSet {
  set: string;
  file: string;
  repoIds: string[];
  replaced: string[];
  /** Other .repo files defining one of the set's repo ids: removed with replaceDuplicates, else left (and warned about). */
  duplicates: { file: string; ids: string[]; removed: boolean }[];
}

export interface ConfigureOptions {
  set: string;
  replaceDuplicates?: boolean;
}

export async function configureCommand(ctx: AgentContext, options: ConfigureOptions): Promise<number> {
  const configured = await configureSet(ctx, parseSetReference(options.set), options);
  ctx.out.result(configured, () =>
    [
      `configured ${configured.set}: ${configured.file}`,
      ...configured.replaced.map((file) => `  removed ${file}`),
      ...configured.duplicates.filter((d) => d.removed).map((d) => `  removed ${d.file} (it defined ${d.ids.join(', ')} too)`),
    ].join('\n'),
  );
  return 0;
}

/** Fetches the set's .repo file from the server and installs it (also the first step of `install`). */
export async function configureSet(ctx: AgentContext, ref: SetReference, options: { replaceDuplicates?: boolean } = {}): Promise<ConfiguredSet> {
  const { body } = await ctx.client().get<unknown>(setRepoFilePath(ref), { headers: { accept: 'text/plain' }, plainText: true });
  if (typeof body !== 'string' || repoIds(body).length === 0) {
    throw new RpmgateError('internal', `the server sent no .repo file for ${formatSetReference(ref)}`);
  }
  const { text, hasSecret } = decorateRepoFile(body, ref, { token: ctx.token });
  const { file, replaced } = await installRepoFile(ctx.reposDir, ref, text, { secret: hasSecret });
  const ids = repoIds(body);
  const duplicates = await findDuplicateRepoFiles(ctx.reposDir, file, ids);
  if (options.replaceDuplicates) await removeRepoFiles(duplicates);
  else {
    // dnf reads every file and one definition of an id wins: a hand-made copy (without the credentials
    // repository auth needs, or for another set) would silently be the one used.
    for (const duplicate of duplicates) {
      ctx.out.progress(
        `rpmgate-agent: warning: ${duplicate.file} also defines ${duplicate.ids.join(', ')}: dnf may use that copy instead of ${file}; remove it, or pass --replace-duplicates`,
      );
    }
  }
  return { set: formatSetReference(ref), file, repoIds: ids, replaced, duplicates: duplicates.map((d) => ({ ...d, removed: Boolean(options.replaceDuplicates) })) };
}
