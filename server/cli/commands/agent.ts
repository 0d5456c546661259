// `rpmgate agent publish FILE`: puts the agent's RPM (npm run build:agent-rpm) into the store, where
// /repo/agent/ serves it to hosts (the bootstrap script installs it, dnf upgrades it). The file is read
// locally first, so that nothing but a binary rpmgate-agent package lands in the store by this command.
import { agentPackageName } from '../../../common/agent-package.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import { readRpmFile } from '../../../common/rpm/reader.ts';
import type { CommandIo } from '../global-options.ts';
import { postPackageFile, regularFileSize } from './upload.ts';

export async function agentPublishCommand(io: CommandIo, file: string): Promise<void> {
  const size = await regularFileSize(file);
  const parsed = await readRpmFile(file).catch((error: unknown) => {
    throw new RpmgateError('invalid_rpm', `${file} is not a readable RPM: ${error instanceof Error ? error.message : String(error)}`);
  });
  const nevra = formatNevra(parsed.package);
  if (parsed.package.name !== agentPackageName || parsed.package.isSource) {
    throw new RpmgateError('usage', `${file} is ${nevra}, not a binary ${agentPackageName} package`);
  }
  const response = await postPackageFile(io, file, size);
  const repository = `${io.client.server}/repo/agent/`;
  const published = { nevra: response.body.nevra, status: response.status === 201 ? 'created' : 'exists', repository };
  io.out.result(published, () => `${published.status === 'created' ? 'published' : 'already published'} ${published.nevra}: hosts install it from ${repository}`);
}
