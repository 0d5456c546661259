// `rpmgate-agent report [--set NAME/VERSION]`: collect the inventory and host facts, spool the report,
// then deliver the spool oldest first to POST /api/v1/hosts/report. A server that cannot be reached
// (or answers 5xx, 408, 429) is retried with exponential backoff; what is still undelivered stays
// spooled for the next run. See spool.ts for the order and supersede policy.
import { reportAnswerShape } from '../../common/api-shapes.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRpmgateError, RpmgateError } from '../../common/errors.ts';
import type { ApiClient } from '../../common/http-client.ts';
import { readHostFacts, readInstalledPackages } from '../collect.ts';
import type { AgentContext } from '../context.ts';
import { buildReport, type HostReport } from '../host-report.ts';
import { findConfiguredRepos } from '../repo-file.ts';
import { formatSetReference, parseSetReference } from '../set-api.ts';
import { deliverSpool, DeliveryFailure, listSpool, lockSpool, spoolReport, type DeliverySummary } from '../spool.ts';

export interface ReportOptions {
  set?: string;
  retries?: string;
  retryDelay?: string;
}

const reportPath = '/api/v1/hosts/report';
/** Statuses that say "not now" rather than "never": returned by the client instead of thrown. */
const retryStatuses = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];
/** Statuses that say the report itself is wrong: resending it would fail again. */
const rejectStatuses = new Set([400, 413, 422]);

export async function reportCommand(ctx: AgentContext, options: ReportOptions): Promise<number> {
  const retries = parseCount(options.retries ?? '3', '--retries');
  const baseDelayMs = parseCount(options.retryDelay ?? '2000', '--retry-delay');
  const client = ctx.client();
  const set = options.set ? formatSetReference(parseSetReference(options.set)) : await followedSet(ctx);
  const [facts, packages] = await Promise.all([readHostFacts(ctx.rpmRoot), readInstalledPackages(ctx.rpmRoot)]);
  const report = buildReport(facts, packages, set);
  const deliveryOptions = {
    retries,
    baseDelayMs,
    maxDelayMs: Math.max(baseDelayMs, 60_000),
    onRetry: (_name: string, attempt: number, delayMs: number, failure: DeliveryFailure) =>
      ctx.out.progress(`rpmgate-agent: ${failure.message}; retry ${attempt} of ${retries} in ${(delayMs / 1000).toFixed(1)} s`),
  };
  const send = (r: HostReport) => sendReport(client, r);

  let spoolDir = ctx.spoolDir;
  let transient = false;
  let release: (() => Promise<void>) | null;
  try {
    release = await lockSpool(spoolDir);
  } catch (error) {
    // No usable spool (not root, read-only file system): still send, but nothing survives a failure.
    ctx.out.progress(`rpmgate-agent: warning: cannot use the spool ${spoolDir} (${(error as Error).message}); sending without it`);
    spoolDir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-spool-'));
    transient = true;
    release = await lockSpool(spoolDir);
  }
  if (!release) {
    // Another run is delivering this spool: queue behind it; it lists the spool again after each report.
    const { name } = await spoolReport(spoolDir, report);
    ctx.out.result({ spooled: name, spoolDir, delivered: [], pending: (await listSpool(spoolDir)).length }, () => `another rpmgate-agent report run is delivering; this report is queued in ${spoolDir}`);
    return 0;
  }

  let summary: DeliverySummary;
  try {
    const spooled = await spoolReport(spoolDir, report);
    for (const dropped of spooled.dropped) ctx.out.progress(`rpmgate-agent: warning: spool full, dropped the oldest report ${dropped}`);
    summary = await deliverSpool(spoolDir, send, deliveryOptions);
  } finally {
    await release();
    if (transient) await rm(spoolDir, { recursive: true, force: true });
  }

  const thisOne = summary.delivered.find((d) => d.report.reportId === report.reportId);
  ctx.out.result(
    {
      hostname: report.hostname,
      machineId: report.machineId,
      set: report.set ?? null,
      packages: report.packages.length,
      delivered: summary.delivered.map((d) => ({ collectedAt: d.report.collectedAt, reportId: d.report.reportId, response: d.response })),
      rejected: summary.rejected,
      pending: transient ? 0 : summary.pending,
      spoolDir: transient ? null : spoolDir,
    },
    () => {
      const lines = summary.delivered
        .filter((d) => d !== thisOne)
        .map((d) => `sent spooled report of ${d.report.collectedAt} (${d.report.packages.length} packages)`);
      if (thisOne) {
        const verdict = serverVerdict(thisOne.response);
        lines.push(`reported ${report.packages.length} packages for ${report.hostname}${report.set ? ` (set ${report.set})` : ''}${verdict ? `: ${verdict}` : ''}`);
      }
      for (const r of summary.rejected) lines.push(`rejected report ${r.name}: ${r.reason} (kept in ${path.join(spoolDir, 'rejected')})`);
      if (summary.stoppedBy) lines.push(`${summary.pending} report(s) waiting in ${transient ? 'memory (lost)' : spoolDir}`);
      return lines.join('\n');
    },
  );

  if (summary.stoppedBy) {
    const where = transient ? 'the report was not delivered' : `${summary.pending} report(s) spooled in ${spoolDir} for the next run`;
    throw new RpmgateError(summary.stoppedBy.action === 'retry' ? 'connection' : 'bad_request', `${summary.stoppedBy.message}; ${where}`);
  }
  if (summary.rejected.length > 0) {
    throw new RpmgateError('bad_request', `the server rejected ${summary.rejected.length} report(s): ${summary.rejected[0]!.reason}`);
  }
  return 0;
}

export interface ReportAfterChange {
  reported: boolean;
  /** The server's word on the host ("conforming", "drifting"), when it gave one. */
  verdict: string | null;
  /** Why the report was not delivered (it is then spooled for the next report run). */
  failure?: string;
}

/**
 * After `install` changed the host: one report at once, so the server sees the host as it now is (its
 * drift disappears without waiting for the timer). A report that cannot be delivered is spooled.
 */
export async function reportAfterChange(ctx: AgentContext, set: string): Promise<ReportAfterChange> {
  const [facts, packages] = await Promise.all([readHostFacts(ctx.rpmRoot), readInstalledPackages(ctx.rpmRoot)]);
  const report = buildReport(facts, packages, set);
  try {
    return { reported: true, verdict: serverVerdict(await sendReport(ctx.client(), report)) };
  } catch (error) {
    if (!(error instanceof DeliveryFailure)) throw error;
    await spoolReport(ctx.spoolDir, report).catch(() => undefined);
    return { reported: false, verdict: null, failure: error.message };
  }
}

/** The set named by the .repo file `configure` wrote, or null when the host follows none. */
export async function followedSet(ctx: AgentContext): Promise<string | null> {
  const repos = await findConfiguredRepos(ctx.reposDir);
  if (repos.length > 1) {
    ctx.out.progress(`rpmgate-agent: warning: several rpmgate .repo files in ${ctx.reposDir}; reporting set ${repos[0]!.set}`);
  }
  return repos[0]?.set ?? null;
}

/** One POST, its failure classified for the spool: retry later, reject for good, or stop for now. */
export async function sendReport(client: ApiClient, report: HostReport): Promise<unknown> {
  let response: { status: number; body: unknown };
  // When and which report travel as headers: the body stays the same while the host does, which is
  // the server's cheapest path (it compares a digest of the body with the last one).
  const { collectedAt, reportId, ...body } = report;
  const headers = { 'x-rpmgate-collected-at': collectedAt, 'x-rpmgate-report-id': reportId };
  try {
    response = await client.post(reportPath, body, { accept: retryStatuses, headers, expect: reportAnswerShape });
  } catch (error) {
    if (!isRpmgateError(error)) throw error;
    if (error.code === 'connection') throw new DeliveryFailure('retry', error.message);
    // 401/403 (the token), 404 (a server without the endpoint) and the like: the report is fine, keep it.
    throw new DeliveryFailure(rejectStatuses.has(error.status) ? 'reject' : 'stop', `the server refused the report: ${error.message}`);
  }
  if (retryStatuses.includes(response.status)) {
    throw new DeliveryFailure('retry', `the server answered ${response.status}${problemDetail(response.body)}`);
  }
  return response.body;
}

/** The server's word on the host, when its answer carries one ("conforming", "drifting", ...). */
function serverVerdict(response: unknown): string | null {
  const status = response && typeof response === 'object' ? (response as { status?: unknown }).status : undefined;
  return typeof status === 'string' ? status : null;
}

function problemDetail(body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { detail?: unknown }).detail === 'string') return `: ${(body as { detail: string }).detail}`;
  return '';
}

function parseCount(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RpmgateError('usage', `${option} takes a whole number, not "${value}"`);
  return n;
}
