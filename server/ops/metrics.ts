// The Prometheus metrics (prom-client): HTTP requests and latency by route template and status,
// repodata lookups and builds, uploads and entry-check findings, database errors, the re-signing job,
// fleet and connection gauges read from the database at scrape time, and the process metrics. With several workers each worker keeps its own registry and the supervisor
// aggregates them with its own (AggregatorRegistry.aggregate), so one scrape sees the whole server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sql } from 'postgres';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Finding } from '../checks/findings.ts';
import type { RepodataCache } from '../repodata/cache.ts';
import type { RotationControl } from '../services/key-rotation.ts';

/** The route labels of requests answered by the warm path, in front of the app (server/http/warm-path.ts). */
export const warmRoutes = { repodata: '/repo/*/repodata/*', package: '/repo/*/Packages/*', repoFile: '/repo/*.repo', key: '/keys/rpmgate.asc' } as const;
/** Set on Node's response when the warm path answered it (its access line is written at debug level). */
export const warmSymbol = Symbol.for('rpmgate.warm');
/** Where the app leaves the route template it matched, on Node's response. */
export const routeSymbol = Symbol.for('rpmgate.route');

export interface Metrics {
  readonly registry: Registry;
  /** Counts a request once its answer is sent (installed on every Node request). */
  observe(req: IncomingMessage, res: ServerResponse): void;
  /** Counts a request answered on the warm socket (server/http/warm-socket.ts), which has no Node response. */
  countRequest(method: string, route: string, status: number, seconds: number): void;
  /** The exposition of the whole server (a worker asks its supervisor). */
  exposition(): Promise<string>;
  readonly contentType: string;
  /** An upload answered: stored (created), found stored already (exists), or refused with its error code. */
  countUpload(outcome: 'created' | 'exists' | 'refused', reason?: string): void;
  /** The findings of a package checked on entry (upload or adoption). */
  countFindings(findings: readonly Finding[]): void;
  /** A request failed on the database: unreachable, or a query refused by PostgreSQL. */
  countDatabaseError(kind: 'unavailable' | 'query'): void;
}

export interface MetricsSources {
  sql: Sql;
  repodata: RepodataCache;
  /** The re-signing job; only where it runs (one process). */
  rotation?: RotationControl;
  /** Fleet gauges from the database: in one process only, or the aggregate would add them up. */
  fleet: boolean;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three of its gauges with a counter's "_total" suffix, which `promtool check
  // metrics` refuses; the counts of active handles, requests and resources are left out.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const labelNames = ['method', 'route', 'status'] as const;
  const pendingRequests = new PendingIncrements<(typeof labelNames)[number]>();
  const requests = new Counter({
    name: 'rpmgate_http_requests_total',
    help: 'HTTP requests answered, by route template and status',
    labelNames,
    registers: [registry],
    collect() {
      pendingRequests.addTo(this);
    },
  });
  const duration = new Histogram({
    name: 'rpmgate_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route template and status',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const repodataBuilds = new Counter({ name: 'rpmgate_repodata_builds_total', help: 'Repository generations built (a cold repomd.xml), by repository kind', labelNames: ['kind'], registers: [registry] });
  const repodataBuildSeconds = new Histogram({
    name: 'rpmgate_repodata_build_duration_seconds',
    help: 'Time to build a repository generation, by repository kind',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const pendingLookups = new PendingIncrements<'kind' | 'result'>();
  const repodataLookups = new Counter({
    name: 'rpmgate_repodata_lookups_total',
    help: 'Repository generations asked for, by repository kind and whether they were built already (hit) or had to be (miss)',
    labelNames: ['kind', 'result'],
    registers: [registry],
    collect() {
      pendingLookups.addTo(this);
    },
  });
  sources.repodata.observer = {
    lookup: (kind, hit) => pendingLookups.add(hit ? `${kind} hit` : `${kind} miss`, () => ({ kind, result: hit ? 'hit' : 'miss' })),
    built: (kind, seconds) => {
      repodataBuilds.inc({ kind });
      repodataBuildSeconds.observe({ kind }, seconds);
    },
  };
  const uploads = new Counter({
    name: 'rpmgate_uploads_total',
    help: 'Uploads answered: created, exists (the identical file was stored), or refused, by the refusal\'s reason (its problem code)',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  const findings = new Counter({
    name: 'rpmgate_entry_check_findings_total',
    help: 'Findings of the entry checks on packages checked on entry, by check and severity (waived ones included)',
    labelNames: ['check', 'severity', 'waived'],
    registers: [registry],
  });
  const databaseErrors = new Counter({
    name: 'rpmgate_database_errors_total',
    help: 'Requests that failed on the database: unavailable (unreachable, shutting down) or query (refused by PostgreSQL)',
    labelNames: ['kind'],
    registers: [registry],
  });
  if (sources.rotation) {
    const rotation = sources.rotation;
    new Gauge({
      name: 'rpmgate_resign_packages',
      help: 'The re-signing job: packages to re-sign, re-signed and failed in its current run',
      labelNames: ['state'],
      registers: [registry],
      aggregator: 'max',
      collect() {
        const status = rotation.current();
        this.set({ state: 'total' }, status.total);
        this.set({ state: 'resigned' }, status.resigned);
        this.set({ state: 'failed' }, status.failed.length);
      },
    });
  }
  if (sources.fleet) {
    const sql = sources.sql;
    const errors = new Counter({ name: 'rpmgate_metrics_query_errors_total', help: 'Database queries of the metrics collection that failed', registers: [registry] });
    let reports: Gauge | null = null;
    let age: Gauge | null = null;
    let drifting: Gauge | null = null;
    // Read once per scrape by the first fleet gauge collected (registries collect in registration order).
    new Gauge({
      name: 'rpmgate_fleet_hosts',
      help: 'Hosts known, by conformance status',
      labelNames: ['status'],
      registers: [registry],
      aggregator: 'max',
      async collect() {
        try {
          const rows = await sql<{ status: string; hosts: number; reports: number; oldest: number | null }[]>`
            select conformance_status as status, count(*)::int as hosts, coalesce(sum(report_count), 0)::float8 as reports,
                   extract(epoch from now() - min(last_report_at))::float8 as oldest
              from hosts group by conformance_status`;
          this.reset();
          for (const status of ['conforming', 'drifting', 'no_set', 'unknown_set']) this.set({ status }, 0);
          for (const row of rows) this.set({ status: row.status }, row.hosts);
          reports?.set(rows.reduce((sum, row) => sum + row.reports, 0));
          age?.set(Math.max(0, ...rows.map((row) => row.oldest ?? 0)));
          drifting?.set(rows.find((row) => row.status === 'drifting')?.hosts ?? 0);
        } catch {
          errors.inc();
        }
      },
    });
    reports = new Gauge({ name: 'rpmgate_fleet_reports_received', help: 'Inventory reports received from all hosts', registers: [registry], aggregator: 'max' });
    age = new Gauge({ name: 'rpmgate_fleet_report_age_seconds', help: 'Age of the oldest last report of a host', registers: [registry], aggregator: 'max' });
    drifting = new Gauge({ name: 'rpmgate_fleet_hosts_drifting', help: 'Hosts drifting from their set', registers: [registry], aggregator: 'max' });
    new Gauge({
      name: 'rpmgate_set_members_not_adopted',
      help: 'Upstream members of sets not in the store: pending (being fetched, retried) or failed (refused for good)',
      labelNames: ['state'],
      registers: [registry],
      aggregator: 'max',
      async collect() {
        try {
          const rows = await sql<{ state: string; members: number }[]>`select state, count(*)::int as members from set_pending_adoptions group by state`;
          this.set({ state: 'pending' }, rows.find((row) => row.state === 'pending')?.members ?? 0);
          this.set({ state: 'failed' }, rows.find((row) => row.state === 'failed')?.members ?? 0);
        } catch {
          errors.inc();
        }
      },
    });
    // The pools of every server on this database, as PostgreSQL sees them (postgres.js exposes no pool state).
    new Gauge({
      name: 'rpmgate_database_connections',
      help: 'Connections to the database from rpmgate servers, by state (active, idle, idle in transaction), and the most the database takes',
      labelNames: ['state'],
      registers: [registry],
      aggregator: 'max',
      async collect() {
        try {
          const rows = await sql<{ state: string; connections: number }[]>`
            select coalesce(state, 'unknown') as state, count(*)::int as connections
              from pg_stat_activity where datname = current_database() and backend_type = 'client backend' group by state
            union all
            select 'max', setting::int from pg_settings where name = 'max_connections'`;
          this.reset();
          for (const state of ['active', 'idle', 'idle in transaction']) this.set({ state }, 0);
          for (const row of rows) this.set({ state: row.state }, row.connections);
        } catch {
          errors.inc();
        }
      },
    });
  }
  return {
    registry,
    contentType: registry.contentType,
    observe(req, res) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const labels = { method: req.method ?? '', route: routeOf(res), status: String(res.statusCode) };
        pendingRequests.add(`${labels.method} ${labels.status} ${labels.route}`, () => labels);
        duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      });
    },
    countRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      pendingRequests.add(`${method} ${status} ${route}`, () => labels);
      duration.observe(labels, seconds);
    },
    exposition: () => registry.metrics(),
    countUpload(outcome, reason = '') {
      uploads.inc({ outcome, reason });
    },
    countFindings(list) {
      for (const finding of list) findings.inc({ check: finding.check, severity: finding.severity, waived: finding.waivedBy ? 'yes' : 'no' });
    },
    countDatabaseError(kind) {
      databaseErrors.inc({ kind });
    },
  };
}

/**
 * Increments of a counter kept by label set and added to it when it is scraped (its collect): prom-client
 * checks and hashes the label object on every inc, a tenth of what a warm answer costs (profiled), and
 * the label sets of the counters per request are few.
 */
class PendingIncrements<Label extends string> {
  private readonly byKey = new Map<string, { labels: Partial<Record<Label, string>>; count: number }>();

  /** One more for the label set `key` names (`labels` is made only the first time). */
  add(key: string, labels: () => Partial<Record<Label, string>>): void {
    const entry = this.byKey.get(key);
    if (entry) entry.count++;
    else this.byKey.set(key, { labels: labels(), count: 1 });
  }

  addTo(counter: Counter<Label>): void {
    for (const entry of this.byKey.values()) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

function routeOf(res: ServerResponse): string {
  const route = (res as unknown as Record<symbol, unknown>)[routeSymbol];
  return typeof route === 'string' ? route : 'unmatched';
}

/** The supervisor's exposition: every worker's metrics and its own, aggregated. */
export async function aggregateExpositions(own: Registry, perWorker: unknown[]): Promise<string> {
  const all = [...perWorker.filter(Array.isArray), await own.getMetricsAsJSON()] as MetricObjectWithValues<MetricValue<string>>[][];
  return AggregatorRegistry.aggregate(all).metrics();
}
