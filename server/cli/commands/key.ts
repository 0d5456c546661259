// `rpmgate key show | add | activate | retire`: the server's signing keys and their rotation.
import { keyActivationShape, keyShape, keysDocumentShape } from '../../../common/api-shapes.ts';
import { readFile } from 'node:fs/promises';
import { RpmgateError } from '../../../common/errors.ts';
import type { CommandIo } from '../global-options.ts';
import { table } from './set.ts';

interface KeyInfo {
  fingerprint: string;
  keyId: string;
  algorithm: string;
  userId: string;
  createdAt: string;
  status: string;
}

interface RotationStatus {
  state: string;
  total: number;
  resigned: number;
  failed: { nevra: string; error: string }[];
}

interface KeysDocument {
  current: KeyInfo;
  keys: KeyInfo[];
  rotation: RotationStatus;
}

export async function keyShowCommand(io: CommandIo) {
  // Without a token, what hosts see: the published key file, whose fingerprints are public.
  if (!io.authenticated) return publishedKeysCommand(io);
  const { body } = await io.client.get<KeysDocument>('/api/v1/keys', { expect: keysDocumentShape });
  io.out.result(body, () => {
    const lines = [`current signing key: ${formatFingerprint(body.current.fingerprint)} (${body.current.algorithm}, ${body.current.userId})`, ''];
    lines.push(table(body.keys.map((key) => [key.status, formatFingerprint(key.fingerprint), key.algorithm, key.createdAt.slice(0, 10)])));
    if (body.rotation.state !== 'idle') lines.push('', describeRotation(body.rotation));
    return lines.join('\n');
  });
}

export async function keyAddCommand(io: CommandIo, options: { file?: string; algorithm?: string; passphrase?: string }) {
  let request: Record<string, unknown> = { algorithm: options.algorithm };
  if (options.file) {
    let armored: string;
    try {
      armored = await readFile(options.file, 'utf8');
    } catch {
      throw new RpmgateError('usage', `cannot read ${options.file}`);
    }
    request = { armored, passphrase: options.passphrase ?? process.env.RPMGATE_SIGNING_KEY_PASSPHRASE };
  }
  const { body } = await io.client.post<KeyInfo>('/api/v1/keys', request, { expect: keyShape });
  io.out.result(body, () => `added ${formatFingerprint(body.fingerprint)} (${body.status}); make it current with: rpmgate key activate ${body.fingerprint}`);
}

export async function keyActivateCommand(io: CommandIo, fingerprint: string) {
  const { body } = await io.client.post<{ current: KeyInfo; rotation: RotationStatus }>(`/api/v1/keys/${encodeURIComponent(fingerprint)}/activate`, {}, { expect: keyActivationShape });
  io.out.result(body, () => `current signing key: ${formatFingerprint(body.current.fingerprint)}\n${describeRotation(body.rotation)}`);
}

export async function keyRetireCommand(io: CommandIo, fingerprint: string) {
  const { body } = await io.client.post<KeyInfo>(`/api/v1/keys/${encodeURIComponent(fingerprint)}/retire`, {}, { expect: keyShape });
  io.out.result(body, () => `retired ${formatFingerprint(body.fingerprint)}: /keys/rpmgate.asc no longer publishes it`);
}

function describeRotation(rotation: RotationStatus): string {
  const failed = rotation.failed.length > 0 ? `, ${rotation.failed.length} failed` : '';
  return `re-signing: ${rotation.state}, ${rotation.resigned} of ${rotation.total} package(s)${failed}`;
}

/** As gpg prints it: ten groups of four. */
function formatFingerprint(fingerprint: string): string {
  return fingerprint.toUpperCase().replace(/(.{4})/g, '$1 ').trim();
}

async function publishedKeysCommand(io: CommandIo): Promise<void> {
  const { body } = await io.client.get<string>('/keys/rpmgate.asc', { plainText: true, headers: { accept: 'application/pgp-keys, text/plain' } });
  const { armoredKeyFingerprints } = await import('../../../common/openpgp-fingerprints.ts');
  const fingerprints = typeof body === 'string' ? armoredKeyFingerprints(body) : [];
  if (fingerprints.length === 0) throw new RpmgateError('not_rpmgate', `${io.client.server}: not an rpmgate server (its /keys/rpmgate.asc holds no public key)`);
  io.out.result({ published: fingerprints }, () =>
    [
      `published signing key${fingerprints.length > 1 ? 's' : ''} (${io.client.server}/keys/rpmgate.asc):`,
      ...fingerprints.map((fingerprint) => `  ${formatFingerprint(fingerprint)}`),
      ...(fingerprints.length > 1 ? ['(with an admin token, rpmgate key show tells which one signs)'] : []),
    ].join('\n'),
  );
}
