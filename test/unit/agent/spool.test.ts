// The report spool: order, atomic files, supersede and cap policy, delivery with backoff, poison
// reports, the lock; and how one POST's outcome is classified, against a tiny local HTTP stub.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendReport } from '../../../agent/commands/report.ts';
import { buildReport, type HostReport } from '../../../agent/host-report.ts';
import { backoffDelay, deliverSpool, DeliveryFailure, listSpool, lockSpool, readSpooled, spoolReport } from '../../../agent/spool.ts';
import { ApiClient } from '../../../common/http-client.ts';

const facts = { hostname: 'web1', machineId: '0123456789abcdef0123456789abcdef', os: 'Rocky Linux 9.3', arch: 'x86_64' };

function reportOf(version: string, at: string): HostReport {
  return buildReport(facts, [{ name: 'rg-hello', epoch: null, version, release: '1', arch: 'noarch' }], 'demo/1.0', new Date(at));
}

const instant = { retries: 3, baseDelayMs: 1, maxDelayMs: 4, sleep: async () => {} };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rpmgate-agent-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spoolReport', () => {
  it('writes one private JSON file per report, no temporary file left, listed in collection order', async () => {
    await spoolReport(dir, reportOf('1.0', '2024-05-01T10:00:00Z'));
    // A clock that went backwards still queues behind the newest.
    await spoolReport(dir, reportOf('2.0', '2024-05-01T09:00:00Z'));
    await spoolReport(dir, reportOf('3.0', '2024-05-01T11:00:00Z'));
    const names = await listSpool(dir);
    expect(await readdir(dir)).toEqual(names);
    const versions = await Promise.all(names.map(async (name) => (await readSpooled(dir, name)).packages[0]!.version));
    expect(versions).toEqual(['1.0', '2.0', '3.0']);
    expect((await stat(path.join(dir, names[0]!))).mode & 0o777).toBe(0o600);
  });

  it('replaces the newest waiting report when the inventory is the same, and keeps it when it changed', async () => {
    const first = await spoolReport(dir, reportOf('1.0', '2024-05-01T10:00:00Z'));
    const same = await spoolReport(dir, reportOf('1.0', '2024-05-01T11:00:00Z'));
    expect(same.superseded).toBe(first.name);
    const changed = await spoolReport(dir, reportOf('2.0', '2024-05-01T12:00:00Z'));
    expect(changed.superseded).toBeNull();
    const waiting = await Promise.all((await listSpool(dir)).map((name) => readSpooled(dir, name)));
    expect(waiting.map((r) => [r.packages[0]!.version, r.collectedAt])).toEqual([
      ['1.0', '2024-05-01T11:00:00.000Z'],
      ['2.0', '2024-05-01T12:00:00.000Z'],
    ]);
  });

  it('drops the oldest reports beyond the cap', async () => {
    for (let i = 0; i < 5; i++) await spoolReport(dir, reportOf(`${i}.0`, `2024-05-01T1${i}:00:00Z`), 3);
    const waiting = await Promise.all((await listSpool(dir)).map((name) => readSpooled(dir, name)));
    expect(waiting.map((r) => r.packages[0]!.version)).toEqual(['2.0', '3.0', '4.0']);
  });

  it('treats a missing spool directory as empty', async () => {
    expect(await listSpool(path.join(dir, 'none'))).toEqual([]);
  });
});

describe('deliverSpool', () => {
  it('sends every waiting report oldest first and removes each once accepted', async () => {
    for (const v of ['1.0', '2.0', '3.0']) await spoolReport(dir, reportOf(v, `2024-05-01T1${v[0]}:00:00Z`));
    const sent: string[] = [];
    const summary = await deliverSpool(dir, async (r) => sent.push(r.packages[0]!.version), instant);
    expect(sent).toEqual(['1.0', '2.0', '3.0']);
    expect(summary.delivered).toHaveLength(3);
    expect(summary.stoppedBy).toBeNull();
    expect(await listSpool(dir)).toEqual([]);
  });

  it('retries with growing delays and delivers when the server comes back', async () => {
    await spoolReport(dir, reportOf('1.0', '2024-05-01T10:00:00Z'));
    const delays: number[] = [];
    let calls = 0;
    const summary = await deliverSpool(
      dir,
      async () => {
        if (++calls < 3) throw new DeliveryFailure('retry', 'the server answered 503');
        return { ok: true };
      },
      { retries: 5, baseDelayMs: 100, maxDelayMs: 10_000, sleep: async (ms) => void delays.push(ms) },
    );
    expect(summary.delivered.map((d) => d.response)).toEqual([{ ok: true }]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it('stops when retries run out and keeps everything still waiting, in order', async () => {
    for (const v of ['1.0', '2.0', '3.0']) await spoolReport(dir, reportOf(v, `2024-05-01T1${v[0]}:00:00Z`));
    let calls = 0;
    const summary = await deliverSpool(
      dir,
      async () => {
        if (++calls > 1) throw new DeliveryFailure('retry', 'cannot reach the server');
      },
      instant,
    );
    expect(calls).toBe(1 + 1 + instant.retries);
    expect(summary.delivered).toHaveLength(1);
    expect(summary.pending).toBe(2);
    expect(summary.stoppedBy?.message).toBe('cannot reach the server');
    const waiting = await Promise.all((await listSpool(dir)).map((name) => readSpooled(dir, name)));
    expect(waiting.map((r) => r.packages[0]!.version)).toEqual(['2.0', '3.0']);
  });

  it('moves a rejected report aside with its reason and goes on with the next', async () => {
    for (const v of ['1.0', '2.0']) await spoolReport(dir, reportOf(v, `2024-05-01T1${v[0]}:00:00Z`));
    const summary = await deliverSpool(
      dir,
      async (r) => {
        if (r.packages[0]!.version === '1.0') throw new DeliveryFailure('reject', 'the server refused the report: bad arch');
      },
      instant,
    );
    expect(summary.rejected).toHaveLength(1);
    expect(summary.delivered.map((d) => d.report.packages[0]!.version)).toEqual(['2.0']);
    const rejected = await readdir(path.join(dir, 'rejected'));
    expect(rejected).toHaveLength(2);
    expect(await readFile(path.join(dir, 'rejected', rejected.find((n) => n.endsWith('.reason'))!), 'utf8')).toContain('bad arch');
  });

  it('stops at once on an authorization failure and keeps every report', async () => {
    for (const v of ['1.0', '2.0']) await spoolReport(dir, reportOf(v, `2024-05-01T1${v[0]}:00:00Z`));
    let calls = 0;
    const summary = await deliverSpool(
      dir,
      async () => {
        calls++;
        throw new DeliveryFailure('stop', 'the server refused the report: invalid token');
      },
      instant,
    );
    expect(calls).toBe(1);
    expect(summary.pending).toBe(2);
  });

  it('moves an unreadable spool file aside', async () => {
    await writeFile(path.join(dir, '000000000000001-x-y.json'), '{broken');
    const summary = await deliverSpool(dir, async () => {}, instant);
    expect(summary.rejected).toHaveLength(1);
    expect(await listSpool(dir)).toEqual([]);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, caps at the maximum and jitters down to half', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => backoffDelay(attempt, 1000, 5000, () => 0.999999))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(2, 1000, 5000, () => 0)).toBe(2000);
  });
});

describe('lockSpool', () => {
  it('admits one holder at a time and takes over a lock left by a dead process', async () => {
    const release = await lockSpool(dir);
    expect(release).not.toBeNull();
    expect(await lockSpool(dir)).toBeNull();
    await release!();
    await writeFile(path.join(dir, '.lock'), '999999999');
    const again = await lockSpool(dir);
    expect(again).not.toBeNull();
    await again!();
  });
});

describe('sendReport', () => {
  let server: Server;
  let url: string;
  let answer: (req: IncomingMessage, res: ServerResponse) => void;
  const bodies: unknown[] = [];

  beforeEach(async () => {
    bodies.length = 0;
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        bodies.push({
          auth: req.headers.authorization,
          url: req.url,
          body: JSON.parse(text),
          collectedAt: req.headers['x-rpmgate-collected-at'],
          reportId: req.headers['x-rpmgate-report-id'],
        });
        answer(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  // rpmgate's problem documents carry its error code; 408 and 429 come from gateways, as text.
  const codes: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'payload_too_large', 422: 'unprocessable', 500: 'internal', 502: 'connection', 503: 'unavailable' };
  const problem = (status: number) => (_req: IncomingMessage, res: ServerResponse) => {
    if (!codes[status]) {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: `https://rpmgate.dev/problems/${codes[status]}`, title: 'x', status, detail: `status ${status}`, code: codes[status] }));
  };

  async function outcome(): Promise<string> {
    try {
      await sendReport(new ApiClient({ server: url, token: 'agent-token' }), reportOf('1.0', '2024-05-01T10:00:00Z'));
      return 'delivered';
    } catch (error) {
      return (error as DeliveryFailure).action;
    }
  }

  it('POSTs the report with the token to /api/v1/hosts/report and returns the answer', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"machineId":"0123456789abcdef0123456789abcdef","status":"conforming"}');
    };
    const report = reportOf('1.0', '2024-05-01T10:00:00Z');
    expect(await sendReport(new ApiClient({ server: url, token: 'agent-token' }), report)).toEqual({ machineId: facts.machineId, status: 'conforming' });
    // The body is the contract's document; when and which report travel as headers.
    const { collectedAt, reportId, ...document } = report;
    expect(bodies).toEqual([{ auth: 'Bearer agent-token', url: '/api/v1/hosts/report', body: document, collectedAt, reportId }]);
    expect(Object.keys(document)).toEqual(['hostname', 'machineId', 'os', 'arch', 'set', 'packages']);
  });

  it('retries 5xx, 408 and 429; rejects 400, 413 and 422; stops on 401, 403 and 404', async () => {
    const results: Record<number, string> = {};
    for (const status of [500, 502, 503, 408, 429, 400, 413, 422, 401, 403, 404]) {
      answer = problem(status);
      results[status] = await outcome();
    }
    expect(results).toEqual({ 500: 'retry', 502: 'retry', 503: 'retry', 408: 'retry', 429: 'retry', 400: 'reject', 413: 'reject', 422: 'reject', 401: 'stop', 403: 'stop', 404: 'stop' });
  });

  it('stops, keeping the report, when the answer is not from rpmgate (a web page)', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
    expect(await outcome()).toBe('stop');
  });

  it('retries when nothing listens', async () => {
    await new Promise((resolve) => server.close(resolve));
    server = createServer();
    expect(await outcome()).toBe('retry');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
});
