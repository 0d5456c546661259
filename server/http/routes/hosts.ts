// /api/v1/hosts: inventory reports from agents, enrollment of agent tokens, and the fleet's hosts with
// their conformance for people. The JSON views of hosts live here and serve the other fleet routers.
import { isUtf8 } from 'node:buffer';
import { createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { ConformanceResult, PackageTuple } from '../../../common/conformance.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import type { AppContext } from '../../context.ts';
import type { HostSummaryRow, HostSummaryWithDrift } from '../../db/hosts.ts';
import { driftView } from '../../services/conformance.ts';
import { enrollHost, findHosts, getHost, recordHostReport, type HostDetail, type ReportOutcome } from '../../services/hosts.ts';
import { allow } from '../auth.ts';
import { jsonBody } from '../json-body.ts';
import { enrollBody, enrolledHost, hostDetail, hostList, hostParams, hostQuery, hostReportAnswer, listHostsQuery, reportBody, reportHeaders } from '../schemas/hosts.ts';
import { apiRouter, jsonContent, jsonRequest, noQuery } from '../validation.ts';

/** People read the fleet; agents only write their own host. */
export const fleetReadRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;
/** 100,000 packages of ~150 bytes each fit well within this. */
const maxReportBytes = 32 * 1024 * 1024;

export function hostRoutes(ctx: AppContext) {
  const routes = apiRouter();

  const reportLimit = Math.min(ctx.config.maxJsonBytes, maxReportBytes);
  const limitReport = bodyLimit({
    maxSize: reportLimit,
    onError: () => {
      throw new RpmgateError('payload_too_large', `the report is larger than the limit of ${reportLimit} bytes`);
    },
  });
  const report = createRoute({
    method: 'post',
    path: '/report',
    middleware: [allow('agent'), limitReport],
    request: { query: noQuery, headers: reportHeaders, body: jsonRequest(reportBody) },
    responses: {
      200: { description: 'the host as recorded, with its drift', content: jsonContent(hostReportAnswer) },
      201: { description: "the host's first report, recorded", content: jsonContent(hostReportAnswer) },
    },
  });
  // The body is validated by parseHostReport in the service, not by the schema (see reportBody):
  // the route is registered without it, and documented with it.
  routes.openapi({ ...report, request: { query: noQuery, headers: reportHeaders }, hide: true }, async (c) => {
    // The bytes, not parsed JSON: an identical report is recognised by their digest before any parsing.
    // arrayBuffer() reads a 100 KB body several times faster than iterating the web stream.
    const body = Buffer.from(await c.req.arrayBuffer());
    if (!isUtf8(body)) throw new RpmgateError('bad_request', 'the report is not valid UTF-8');
    const collectedAt = c.req.valid('header')['X-Rpmgate-Collected-At'];
    const outcome = await recordHostReport(ctx.sql, body, c.get('principal')!, { collectedAt: collectedAt === undefined ? null : new Date(collectedAt) });
    return c.json(reportView(outcome), outcome.host.report_count === 1 ? 201 : 200);
  });
  const { middleware: _middleware, ...documented } = report;
  routes.openAPIRegistry.registerPath(documented);

  const enroll = createRoute({
    method: 'post',
    path: '/enroll',
    middleware: [allow('enrollment', 'admin'), jsonBody(ctx.config.maxJsonBytes)],
    request: { query: noQuery, body: jsonRequest(enrollBody) },
    responses: { 201: { description: "the host's own agent token, shown once", content: jsonContent(enrolledHost) } },
  });
  routes.openapi(enroll, async (c) => c.json(await enrollHost(ctx.sql, c.req.valid('json'), c.get('principal')!), 201));

  const list = createRoute({
    method: 'get',
    path: '/',
    middleware: [allow(...fleetReadRoles)],
    request: { query: listHostsQuery },
    responses: { 200: { description: 'the hosts with their conformance, and how many match in all', content: jsonContent(hostList) } },
  });
  routes.openapi(list, async (c) => {
    const query = c.req.valid('query');
    const { total, hosts } = await findHosts(ctx.sql, {
      setRef: query.set ?? null,
      drifting: query.drifting,
      strict: query.strict,
      limit: query.limit,
      offset: query.offset,
    });
    return c.json({ total, hosts: hosts.map((host) => hostSummaryView(host, query.strict)) });
  });

  const show = createRoute({
    method: 'get',
    path: '/{machineId}',
    middleware: [allow(...fleetReadRoles)],
    request: { params: hostParams, query: hostQuery },
    responses: { 200: { description: 'the host, its conformance and history', content: jsonContent(hostDetail) } },
  });
  routes.openapi(show, async (c) => {
    const query = c.req.valid('query');
    const detail = await getHost(ctx.sql, c.req.valid('param').machineId, { strict: query.strict, historyLimit: query.history });
    return c.json(hostDetailView(detail, query.strict, query.packages));
  });

  return routes;
}

type Status = HostSummaryRow['conformance_status'];

/** A host as listed: its stored summary. With strict, foreign packages turn a conforming host drifting. */
export function hostSummaryView(row: HostSummaryRow, strict: boolean) {
  const status: Status = strict && row.conformance_status === 'conforming' && row.foreign_count > 0 ? 'drifting' : row.conformance_status;
  return {
    machineId: row.machine_id,
    hostname: row.hostname,
    os: row.os,
    arch: row.arch,
    set: row.set_ref,
    setKnown: row.set_id !== null,
    status,
    conforming: status === 'conforming' ? true : status === 'drifting' ? false : null,
    counts: {
      expected: row.expected_count,
      matched: row.expected_count - row.missing_count - row.older_count - row.newer_count,
      missing: row.missing_count,
      older: row.older_count,
      newer: row.newer_count,
      different: row.different_count,
      foreign: row.foreign_count,
    },
    packageCount: row.package_count,
    reports: row.report_count,
    firstReportAt: new Date(row.first_report_at).toISOString(),
    lastReportAt: new Date(row.last_report_at).toISOString(),
    lastChangeAt: new Date(row.last_change_at).toISOString(),
  };
}

/** A host with the drift stored at its last report (missing, older, newer, different). */
export function hostDriftView(row: HostSummaryWithDrift, strict: boolean) {
  const drift = row.conformance;
  return {
    ...hostSummaryView(row, strict),
    drift: { missing: drift.missing ?? [], older: drift.older ?? [], newer: drift.newer ?? [], different: drift.different ?? [] },
  };
}

function reportView(outcome: ReportOutcome) {
  return { ...hostDriftView(outcome.host, false), unchanged: outcome.unchanged, changes: outcome.changes };
}

function hostDetailView(detail: HostDetail, strict: boolean, withPackages: boolean) {
  const { result, installed } = detail.conformance;
  return {
    ...hostSummaryView(detail.host, strict),
    conformance: result ? conformanceView(result) : null,
    history: detail.history.map((change) => ({
      at: change.at.toISOString(),
      kind: change.kind,
      from: change.from ? formatNevra(change.from) : null,
      to: change.to ? formatNevra(change.to) : null,
    })),
    ...(withPackages ? { packages: installed.map(formatNevra).sort() } : {}),
  };
}

export function conformanceView(result: ConformanceResult) {
  return {
    conforming: result.conforming,
    strict: result.strict,
    counts: result.counts,
    ...driftView(result),
    foreign: result.foreign.map((t: PackageTuple) => formatNevra(t)),
  };
}
