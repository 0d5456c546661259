// The signing keys: /keys/rpmgate.asc for hosts (every published key, so hosts keep verifying during
// a rotation's overlap), and /api/v1/keys for admins (add, make current — which re-signs — retire).
import { Hono } from 'hono';
import { createRoute } from '@hono/zod-openapi';
import type { AppContext } from '../../context.ts';
import { recordKeyOfRecord } from '../../signing/key-of-record.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { fileResponse } from '../file-response.ts';
import { jsonBody } from '../json-body.ts';
import { activationAnswer, addKeyBody, emptyBody, keyInfo, keyParams, keysAnswer } from '../schemas/keys.ts';
import { apiRouter, jsonContent, jsonRequest, noQuery, optionalJsonRequest } from '../validation.ts';

const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

export function publicKeyRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();
  routes.on(['GET', 'HEAD'], '/rpmgate.asc', (c) => fileResponse(c.req.raw, ctx.publicKey.file()));
  return routes;
}

export function keyRoutes(ctx: AppContext) {
  const routes = apiRouter();
  const admin = allow('admin');

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...readRoles)],
    request: { query: noQuery },
    responses: { 200: { description: 'the current key, every key and the re-signing job', content: jsonContent(keysAnswer) } },
  });
  routes.openapi(list, (c) => c.json({ current: ctx.keyring.current().info, keys: ctx.keyring.list(), rotation: ctx.rotation.current() }));

  const add = createRoute({
    method: 'post',
    path: '/',
    middleware: [admin, jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(addKeyBody) },
    responses: { 201: { description: 'the added key, published beside the current one', content: jsonContent(keyInfo) } },
  });
  routes.openapi(add, async (c) => {
    const body = c.req.valid('json');
    const key = body.armored !== undefined
      ? await ctx.keyring.addKey(body.armored, { passphrase: body.passphrase ?? null })
      : await ctx.keyring.generateKey({ algorithm: body.algorithm ?? ctx.config.signingAlgorithm });
    ctx.log.info('signing key added', { fingerprint: key.fingerprint, algorithm: key.algorithm, by: c.get('principal')!.name });
    return c.json(key, 201);
  });

  const activate = createRoute({
    method: 'post',
    path: '/{fingerprint}/activate',
    middleware: [admin],
    request: { params: keyParams, query: noQuery, body: optionalJsonRequest(emptyBody) },
    responses: { 202: { description: 'the key is current; the re-signing job has started', content: jsonContent(activationAnswer) } },
  });
  routes.openapi(activate, async (c) => {
    const key = await ctx.keyring.makeCurrent(c.req.valid('param').fingerprint);
    await recordKeyOfRecord(ctx.sql, key.fingerprint);
    const rotation = await ctx.rotation.start();
    ctx.log.info('signing key activated', { fingerprint: key.fingerprint, by: c.get('principal')!.name });
    return c.json({ current: key, rotation }, 202);
  });

  const retire = createRoute({
    method: 'post',
    path: '/{fingerprint}/retire',
    middleware: [admin],
    request: { params: keyParams, query: noQuery, body: optionalJsonRequest(emptyBody) },
    responses: { 200: { description: 'the key, no longer published', content: jsonContent(keyInfo) } },
  });
  routes.openapi(retire, async (c) => {
    const key = await ctx.keyring.retire(c.req.valid('param').fingerprint);
    ctx.log.info('signing key retired', { fingerprint: key.fingerprint, by: c.get('principal')!.name });
    return c.json(key);
  });

  return routes;
}
