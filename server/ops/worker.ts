// One HTTP worker of `rpmgate serve` (node:cluster): opens the services beside the supervisor that
// owns them, listens on the shared port, takes the other processes' changes into memory before it
// acknowledges them, and stops when the supervisor says so (or dies), finishing requests under way.
import type { Config } from '../config.ts';
import { connectDatabase, type DatabaseTarget } from '../db/connect.ts';
import { isRpmgateError } from '../../common/errors.ts';
import type { Logger } from '../log.ts';
import { listenHttp, openServices, type HttpListener, type OpenServices } from '../runtime.ts';
import type { RotationControl, RotationStatus } from '../services/key-rotation.ts';
import { fromWire, isToWorker, SupervisorLink, toWire, type PeerEvent, type ToSupervisor, type ToWorker } from './peers.ts';

/** The environment variable that hands the workers the database the supervisor opened. */
export const workerDatabaseVariable = 'RPMGATE_WORKER_DATABASE';
/** How long requests under way may take to finish once a stop is asked for. */
export const stopGraceMs = 10_000;

const idleRotation: RotationStatus = { state: 'idle', fingerprint: null, total: 0, resigned: 0, failed: [], startedAt: null, finishedAt: null };

export async function runWorker(config: Config, log: Logger): Promise<void> {
  const send = (message: ToSupervisor) => {
    if (process.connected) process.send!(message);
  };
  const link = new SupervisorLink(send);
  let rotationStatus = idleRotation;
  const rotation: RotationControl = {
    start: async () => (rotationStatus = (await link.request({ type: 'rotation-start' })) as RotationStatus),
    current: () => ({ ...rotationStatus, failed: [...rotationStatus.failed] }),
    settled: async () => {},
    stop: async () => {},
  };

  let services: OpenServices | null = null;
  let listener: HttpListener | null = null;
  /** Changes heard before the services were open, taken into memory as soon as they are. */
  const early: PeerEvent[] = [];
  const apply = async (event: PeerEvent) => {
    if (!services) return void early.push(event);
    if (event.type === 'generations') services.context.repositories.adopt(fromWire(event));
    else await services.context.keyring.reload();
  };

  let stopping: Promise<void> | null = null;
  const stop = (graceMs: number) =>
    (stopping ??= (async () => {
      log.info('worker stopping', { pid: process.pid, graceMs });
      await listener?.close(graceMs);
      log.info('worker stopped taking requests', { pid: process.pid });
      await services?.close();
      await database?.close();
      link.abandon();
      if (process.connected) process.disconnect();
    })());

  const onMessage = (message: unknown) => {
    if (!isToWorker(message) || link.settle(message)) return;
    void handle(message).catch((error: unknown) => log.error('supervisor message failed', { err: error }));
  };
  const handle = async (message: ToWorker) => {
    switch (message.rpmgate) {
      case 'event':
        await apply(message.event);
        send({ rpmgate: 'ack', id: message.id });
        return;
      case 'collect-metrics':
        send({ rpmgate: 'ack', id: message.id, value: services ? await services.context.metrics.registry.getMetricsAsJSON() : null });
        return;
      case 'rotation-status':
        rotationStatus = message.status;
        return;
      case 'stop':
        await stop(stopGraceMs);
        return;
    }
  };
  process.on('message', onMessage);
  // The supervisor is gone (killed): nobody restarts or coordinates us, so stop at once.
  process.once('disconnect', () => void stop(0));
  // A signal to the whole process group (Ctrl-C, systemd's stop) reaches the workers too: they stop
  // as the supervisor would ask them to, finishing requests under way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(stopGraceMs));

  let database: Awaited<ReturnType<typeof connectDatabase>> | null = null;
  try {
    const target = JSON.parse(process.env[workerDatabaseVariable] ?? 'null') as DatabaseTarget | null;
    if (!target) throw new Error(`${workerDatabaseVariable} is not set: a worker is started by rpmgate serve`);
    database = await connectDatabase(target, workerPoolSize(config.workers));
    services = await openServices(config, { log, database, role: { kind: 'sharer', rotation } });
    for (const event of early.splice(0)) await apply(event);
    services.context.repositories.announceChanges((generations) => link.announce(toWire(generations)));
    services.context.keyring.onChange(() => link.announce({ type: 'keyring' }));
    // A scrape reaching this worker is answered for the whole server, aggregated by the supervisor.
    const own = services.context.metrics;
    services.context.metrics = { ...own, exposition: async () => String(await link.request({ type: 'metrics' })) };
  } catch (error) {
    // The database went away while this worker started (PostgreSQL restarting, say): the supervisor
    // starts another one after a pause, and the workers listening meanwhile answer 503.
    log.warn('worker could not start; the supervisor starts another', { pid: process.pid, error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    await stop(0);
    return;
  }
  if (stopping) return;
  try {
    listener = await listenHttp(services.context);
  } catch (error) {
    // Told to the supervisor, which stops the server with this one line (a port in use, say).
    send({ rpmgate: 'failed', code: isRpmgateError(error) ? error.code : 'internal', message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 2;
    await stop(0);
  }
}

/** PostgreSQL's 100 connections shared: the supervisor keeps a few, the workers split about 60. */
export function workerPoolSize(workers: number): number {
  return Math.max(4, Math.min(20, Math.floor(60 / workers)));
}
