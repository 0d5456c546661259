// /api/v1/hosts: inventory reports from agents, enrollment of agent tokens, and the fleet's hosts with
// their conformance for people. The JSON views of hosts live here and serve the other fleet routers.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ConformanceResult, PackageTuple } from '../../../common/conformance.ts';
import { RpmgateError } from '../../../common/errors.ts';
import { formatNevra } from '../../../common/rpm/nevra.ts';
import type { AppContext } from '../../context.ts';
import type { HostSummaryRow, HostSummaryWithDrift } from '../../db/hosts.ts';
import { driftView } from '../../services/conformance.ts';
import { enrollHost, findHosts, getHost, parseSetReference, recordHostReport, type HostDetail, type ReportOutcome } from '../../services/hosts.ts';
import { allow } from '../auth.ts';
import type { HttpEnv } from '../env.ts';
import { readJson } from '../json-body.ts';

/** People read the fleet; agents only write their own host. */
export const fleetReadRoles = ['developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin'] as const;
/** 100,000 packages of ~150 bytes each fit well within this. */
const maxReportBytes = 32 * 1024 * 1024;

/**
 * X-Rpmgate-Collected-At: when the agent read the inventory. A report delivered late from its spool
 * dates its changes by it; absent, they are dated on arrival.
 */
function collectedAtHeader(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : null;
  if (!time || Number.isNaN(time.getTime())) {
    throw new RpmgateError('bad_request', 'X-Rpmgate-Collected-At must be an ISO 8601 time such as 2026-12-02T10:00:00Z');
  }
  return time;
}

export function hostRoutes(ctx: AppContext): Hono<HttpEnv> {
  const routes = new Hono<HttpEnv>();

  const reportLimit = Math.min(ctx.config.maxJsonBytes, maxReportBytes);
  const limitReport = bodyLimit({
    maxSize: reportLimit,
    onError: () => {
      throw new RpmgateError('payload_too_large', `the report is larger than the limit of ${reportLimit} bytes`);
    },
  });
  routes.post('/report', allow('agent'), limitReport, async (c) => {
    // The bytes, not parsed JSON: an identical report is recognised by their digest before any parsing.
    // arrayBuffer() reads a 100 KB body several times faster than iterating the web stream.
    const body = Buffer.from(await c.req.arrayBuffer());
    const outcome = await recordHostReport(ctx.sql, body, c.get('principal')!, { collectedAt: collectedAtHeader(c.req.header('x-rpmgate-collected-at')) });
    return c.json(reportView(outcome), outcome.host.report_count === 1 ? 201 : 200);
  });

  routes.post('/enroll', allow('enrollment', 'admin'), async (c) => {
    const enrolled = await enrollHost(ctx.sql, await readJson(c, ctx.config.maxJsonBytes), c.get('principal')!);
    return c.json(enrolled, 201);
  });

  routes.get('/', allow(...fleetReadRoles), async (c) => {
    const setParam = c.req.query('set');
    const strict = booleanQuery(c.req.query('strict'), 'strict') ?? false;
    const { total, hosts } = await findHosts(ctx.sql, {
      setRef: setParam === undefined || setParam === '' ? null : parseSetReference(setParam),
      drifting: booleanQuery(c.req.query('drifting'), 'drifting'),
      strict,
      limit: integerQuery(c.req.query('limit'), 10_000, 1, 100_000, 'limit'),
      offset: integerQuery(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER, 'offset'),
    });
    return c.json({ total, hosts: hosts.map((host) => hostSummaryView(host, strict)) });
  });

  routes.get('/:machineId', allow(...fleetReadRoles), async (c) => {
    const strict = booleanQuery(c.req.query('strict'), 'strict') ?? false;
    const detail = await getHost(ctx.sql, c.req.param('machineId'), {
      strict,
      historyLimit: integerQuery(c.req.query('history'), 50, 0, 10_000, 'history'),
    });
    return c.json(hostDetailView(detail, strict, booleanQuery(c.req.query('packages'), 'packages') ?? false));
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

export function booleanQuery(raw: string | undefined, name: string): boolean | null {
  if (raw === undefined || raw === '') return null;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new RpmgateError('bad_request', `${name} must be true or false`);
}

export function integerQuery(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RpmgateError('bad_request', `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}
