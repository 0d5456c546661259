// /api/v1/packages: upload (streamed to disk), listing, and deleting a package no set holds.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createRoute } from '@hono/zod-openapi';
import { RpmgateError } from '../../../common/errors.ts';
import type { AppContext } from '../../context.ts';
import { findingsOf } from '../../db/package-findings.ts';
import { findPackageDetail, listPackages, type PackageDetailRow, type PackageRow } from '../../db/packages.ts';
import { levelFromRank } from '../../../common/roles.ts';
import { uploadPackage } from '../../services/upload.ts';
import { allow, requireRoles } from '../auth.ts';
import { deletedPackage, listPackagesQuery, packageDetail, packageParams, packageSummary, uploadBody } from '../schemas/packages.ts';
import { deleteQuery } from '../schemas/sets.ts';
import { deletePackageByNevra } from '../../services/user-deletion.ts';
import { z } from '@hono/zod-openapi';
import { apiRouter, jsonContent, noQuery } from '../validation.ts';

export const uploadRoles = ['developer', 'integ', 'admin'] as const;
const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

export function packageRoutes(ctx: AppContext) {
  const routes = apiRouter();

  const upload = createRoute({
    method: 'post',
    path: '/',
    middleware: [allow(...uploadRoles)],
    // Not JSON: the RPM reader checks the body (streamed, never buffered whole).
    request: { query: noQuery, body: { content: { 'application/x-rpm': { schema: uploadBody } }, required: true } },
    responses: {
      200: { description: 'the identical file was stored already', content: jsonContent(packageSummary) },
      201: { description: 'stored and signed', content: jsonContent(packageSummary) },
    },
  });
  routes.openapi(upload, async (c) => {
    const principal = requireRoles(c.get('principal'), uploadRoles);
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > ctx.config.maxUploadBytes) {
      throw new RpmgateError('payload_too_large', `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes`);
    }
    const body = c.req.raw.body;
    if (!body) throw new RpmgateError('invalid_rpm', 'the request has no body: send the RPM file as the body');
    let result: Awaited<ReturnType<typeof uploadPackage>>;
    try {
      result = await uploadPackage(ctx, Readable.fromWeb(body as WebReadableStream<Uint8Array>), principal);
    } catch (error) {
      // One line per refused upload, for people: who, and why.
      if (error instanceof RpmgateError && error.status < 500) ctx.log.info('upload refused', { by: principal.name, status: error.status, reason: error.message });
      ctx.metrics.countUpload('refused', refusalReason(error));
      throw error;
    }
    ctx.metrics.countUpload(result.status);
    ctx.log.info(result.status === 'created' ? 'upload stored' : 'upload already stored', { nevra: result.package.nevra, by: principal.name });
    const stored = await findPackageDetail(ctx.sql, result.package.nevra);
    return c.json(packageView(stored ?? result.package), result.status === 'created' ? 201 : 200);
  });

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...readRoles)],
    request: { query: listPackagesQuery },
    responses: { 200: { description: 'packages in id order, limit at a time', content: jsonContent(z.array(packageSummary)) } },
  });
  routes.openapi(list, async (c) => {
    const { name, limit, after } = c.req.valid('query');
    return c.json((await listPackages(ctx.sql, { name: name ?? null, limit, afterId: after })).map(packageView));
  });

  const show = createRoute({
    method: 'get',
    path: '/{nevra}',
    middleware: [allow(...readRoles)],
    request: { params: packageParams, query: noQuery },
    responses: { 200: { description: 'the package with its level, sets and entry-check findings', content: jsonContent(packageDetail) } },
  });
  routes.openapi(show, async (c) => {
    const { nevra } = c.req.valid('param');
    const row = await findPackageDetail(ctx.sql, nevra);
    if (!row) throw new RpmgateError('not_found', `no package ${nevra}`);
    return c.json({ ...packageView(row), findings: await findingsOf(ctx.sql, row.id) });
  });

  const remove = createRoute({
    method: 'delete',
    path: '/{nevra}',
    middleware: [allow('admin')],
    request: { params: packageParams, query: deleteQuery },
    responses: { 200: { description: 'the package is gone', content: jsonContent(deletedPackage) } },
  });
  routes.openapi(remove, async (c) => {
    const { nevra } = c.req.valid('param');
    const { comment } = c.req.valid('query');
    const by = c.get('principal')!;
    const deleted = await deletePackageByNevra(ctx, nevra, by, comment);
    ctx.log.info('package deleted', { nevra: deleted.deleted, freedBytes: deleted.freedBytes, by: by.name, ...(comment ? { comment } : {}) });
    return c.json(deleted);
  });

  return routes;
}

/** A refusal's reason as a metrics label: its problem code, and entry_checks for a package the checks refused. */
function refusalReason(error: unknown): string {
  if (!(error instanceof RpmgateError)) return 'internal';
  return error.code === 'unprocessable' && error.extra.findings ? 'entry_checks' : error.code;
}

export function packageView(row: PackageRow | PackageDetailRow) {
  const detail = 'sets' in row ? { level: levelFromRank(row.level_rank), sets: row.sets } : {};
  return {
    nevra: row.nevra,
    name: row.name,
    epoch: row.epoch,
    version: row.version,
    release: row.release,
    arch: row.arch,
    source: row.is_source,
    sourcerpm: row.sourcerpm,
    filename: row.filename,
    sha256: row.sha256,
    size: row.size,
    originalSha256: row.original_sha256,
    originalSize: row.original_size,
    summary: row.summary,
    license: row.license,
    buildtime: row.buildtime,
    uploadedAt: row.uploaded_at.toISOString(),
    uploadedBy: row.uploaded_by,
    ...detail,
  };
}
