// The signing keys: /keys/rpmgate.asc for hosts (every published key, so hosts keep verifying during
// a rotation's overlap), and /api/v1/keys for admins (add, make current — which re-signs — retire).
import { Hono } from 'hono';
import { RpmgateError } from '../../../common/errors.ts';
import type { AppContext } from '../../context.ts';
import { signingAlgorithms, type SigningAlgorithm } from '../../signing/keyring.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { readJson } from '../json-body.ts';

const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

export function publicKeyRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.on(['GET', 'HEAD'], '/rpmgate.asc', (c) =>
    c.body(ctx.keyring.publicKeysArmored(), 200, { 'content-type': 'application/pgp-keys', 'cache-control': 'no-cache' }),
  );
  return routes;
}

export function keyRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();

  routes.get('/', allow(...readRoles), (c) =>
    c.json({ current: ctx.keyring.current().info, keys: ctx.keyring.list(), rotation: ctx.rotation.current() }),
  );

  routes.post('/', allow('admin'), async (c) => {
    const body = await readJson(c, ctx.config.maxJsonBytes);
    if (body.armored !== undefined) {
      if (typeof body.armored !== 'string') throw new RpmgateError('bad_request', 'armored must be an ASCII-armored private key');
      const passphrase = typeof body.passphrase === 'string' ? body.passphrase : null;
      return c.json(await ctx.keyring.addKey(body.armored, { passphrase }), 201);
    }
    const algorithm = body.algorithm ?? ctx.config.signingAlgorithm;
    if (!(signingAlgorithms as readonly unknown[]).includes(algorithm)) {
      throw new RpmgateError('bad_request', `algorithm must be one of ${signingAlgorithms.join(', ')}`);
    }
    return c.json(await ctx.keyring.generateKey({ algorithm: algorithm as SigningAlgorithm }), 201);
  });

  routes.post('/:fingerprint/activate', allow('admin'), async (c) => {
    const key = await ctx.keyring.makeCurrent(c.req.param('fingerprint'));
    const rotation = await ctx.rotation.start();
    return c.json({ current: key, rotation }, 202);
  });

  routes.post('/:fingerprint/retire', allow('admin'), async (c) => c.json(await ctx.keyring.retire(c.req.param('fingerprint'))));

  return routes;
}
