/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The signing key hosts must trust and the state of a key rotation, on the overview (from the keyring
// and the rotation job in memory, as GET /api/v1/keys answers).
import type { AppContext } from '../../context.ts';

export function SigningKey(props: { ctx: AppContext }) {
  const key = props.ctx.keyring.current().info;
  const rotation = props.ctx.rotation.current();
  const published = props.ctx.keyring.published().length;
  const groups = key.fingerprint.toUpperCase().match(/.{1,4}/g) ?? [];
  return (
    <dl class="facts">
      <dt>Fingerprint</dt>
      <dd>
        <code>{groups.join(' ')}</code>
      </dd>
      <dt>Algorithm</dt>
      <dd>
        {key.algorithm}, created {key.createdAt.slice(0, 10)}
      </dd>
      <dt>Published keys</dt>
      <dd>{published}</dd>
      <dt>Rotation</dt>
      <dd>
        {rotation.state === 'running'
          ? `re-signing: ${rotation.resigned.toLocaleString('en')} of ${rotation.total.toLocaleString('en')} packages`
          : rotation.state === 'failed'
            ? `failed (${rotation.failed.length} packages could not be re-signed)`
            : rotation.state === 'done'
              ? `done${rotation.finishedAt ? ` at ${rotation.finishedAt.slice(0, 16).replace('T', ' ')} UTC` : ''}: every package is signed by this key`
              : 'none under way'}
      </dd>
    </dl>
  );
}
