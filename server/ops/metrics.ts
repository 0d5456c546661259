// The Prometheus metrics (prom-client): HTTP requests and latency by route template and status,
// repodata builds, the re-signing job, fleet gauges read from the database at scrape time, and the
// process metrics. With several workers each worker keeps its own registry and the supervisor
// aggregates them with its own (AggregatorRegistry.aggregate), so one scrape sees the whole server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sql } from 'postgres';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
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
  /** The exposition of the whole server (a worker asks its supervisor). */
  exposition(): Promise<string>;
  readonly contentType: string;
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
  const requests = new Counter({ name: 'rpmgate_http_requests_total', help: 'HTTP requests answered, by route template and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'rpmgate_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route template and status',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Counter({
    name: 'rpmgate_repodata_builds_total',
    help: 'Repository generations built (a cold repomd.xml)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.repodata.builds);
    },
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
  }
  return {
    registry,
    contentType: registry.contentType,
    observe(req, res) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const labels = { method: req.method ?? '', route: routeOf(res), status: String(res.statusCode) };
        requests.inc(labels);
        duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      });
    },
    exposition: () => registry.metrics(),
  };
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
