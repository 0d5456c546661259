// /api/v1/packages: upload (streamed to disk) and listing.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Hono } from 'hono';
import { RpmgateError } from '../../../common/errors.ts';
import type { AppContext } from '../../context.ts';
import { findPackageDetail, listPackages, type PackageDetailRow, type PackageRow } from '../../db/packages.ts';
import { levelFromRank } from '../../../common/roles.ts';
import { uploadPackage } from '../../services/upload.ts';
import { allow, requireRoles } from '../auth.ts';
import type { HttpEnv } from '../env.ts';

export const uploadRoles = ['developer', 'integ', 'admin'] as const;
const readRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;

export function packageRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();

  routes.post('/', allow(...uploadRoles), async (c) => {
    const principal = requireRoles(c.get('principal'), uploadRoles);
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > ctx.config.maxUploadBytes) {
      throw new RpmgateError('payload_too_large', `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes`);
    }
    const body = c.req.raw.body;
    if (!body) throw new RpmgateError('invalid_rpm', 'the request has no body: send the RPM file as the body');
    const result = await uploadPackage(ctx, Readable.fromWeb(body as WebReadableStream<Uint8Array>), principal);
    const stored = await findPackageDetail(ctx.sql, result.package.nevra);
    return c.json(packageView(stored ?? result.package), result.status === 'created' ? 201 : 200);
  });

  routes.get('/', allow(...readRoles), async (c) => {
    const limit = boundedInteger(c.req.query('limit'), 1000, 1, 10_000, 'limit');
    const afterId = boundedInteger(c.req.query('after'), 0, 0, Number.MAX_SAFE_INTEGER, 'after');
    const rows = await listPackages(ctx.sql, { name: c.req.query('name') ?? null, limit, afterId });
    return c.json(rows.map(packageView));
  });

  routes.get('/:nevra', allow(...readRoles), async (c) => {
    const nevra = c.req.param('nevra');
    const row = await findPackageDetail(ctx.sql, nevra);
    if (!row) throw new RpmgateError('not_found', `no package ${nevra}`);
    return c.json(packageView(row));
  });

  return routes;
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

function boundedInteger(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RpmgateError('bad_request', `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}
