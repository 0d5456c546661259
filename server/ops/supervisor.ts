// The supervisor of `rpmgate serve` with several HTTP workers (RPMGATE_WORKERS > 1, node:cluster):
// it owns the data dir, the database (the embedded PostgreSQL is started once, here), the migrations
// and the background jobs (re-signing), forks the workers that serve the port, restarts a worker that
// dies, relays every change one worker makes in memory to the others before it is answered
// (server/ops/peers.ts), and stops them all on a signal, requests under way finished (bounded).
import cluster, { type Worker } from 'node:cluster';
import { RpmgateError, type ErrorCode, errorCodes } from '../../common/errors.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { Logger } from '../log.ts';
import { openServices } from '../runtime.ts';
import { aggregateExpositions } from './metrics.ts';
import { fromWire, isToSupervisor, toWire, type PeerEvent, type ToSupervisor, type ToWorker } from './peers.ts';
import { stopGraceMs, workerDatabaseVariable } from './worker.ts';

/** How long an announcement waits for a worker's acknowledgement before going on without it. */
const barrierTimeoutMs = 2_000;
/** A worker that dies sooner than this after its start is restarted after a pause, not at once. */
const quickDeathMs = 5_000;

/** What the start-up message needs, once the first worker listens. */
export type ListeningAnnouncer = (server: { url: string; context: AppContext; initialAdminTokenFile: string | null }) => void;

export async function runSupervisor(config: Config, log: Logger, stopRequested: Promise<void>, announce?: ListeningAnnouncer): Promise<void> {
  const services = await openServices(config, { log, role: { kind: 'owner' } });
  const { context } = services;
  if (!services.databaseTarget) throw new RpmgateError('internal', 'the workers have no database to connect to');
  const databaseTarget = JSON.stringify(services.databaseTarget);
  let stopping = false;
  let failure: RpmgateError | null = null;
  const started = new Map<number, number>();
  const listening = new Set<number>();
  let announced = false;

  // Acknowledgements awaited, by message id: the workers that still owe one.
  let nextId = 1;
  const pending = new Map<number, { owing: Set<number>; done: (values: unknown[]) => void; values: unknown[] }>();
  const live = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  const sendTo = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };
  const settle = (id: number, workerId: number, value?: unknown) => {
    const entry = pending.get(id);
    if (!entry || !entry.owing.delete(workerId)) return;
    if (value !== undefined) entry.values.push(value);
    if (entry.owing.size === 0) {
      pending.delete(id);
      entry.done(entry.values);
    }
  };
  /** Sends to every live worker but `except` and resolves once each answered (or after the timeout). */
  const gather = (make: (id: number) => ToWorker, except?: Worker): Promise<unknown[]> => {
    const targets = live().filter((worker) => worker !== except);
    if (targets.length === 0) return Promise.resolve([]);
    const id = nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const entry = pending.get(id);
        if (!entry) return;
        pending.delete(id);
        log.warn('workers did not answer in time', { workers: [...entry.owing] });
        resolve(entry.values);
      }, barrierTimeoutMs);
      pending.set(id, {
        owing: new Set(targets.map((worker) => worker.id)),
        values: [],
        done: (values) => {
          clearTimeout(timer);
          resolve(values);
        },
      });
      for (const worker of targets) sendTo(worker, make(id));
    });
  };
  const broadcast = async (event: PeerEvent, except?: Worker) => {
    await gather((id) => ({ rpmgate: 'event', id, event }), except);
  };

  // The supervisor's own changes (re-signing publishes its groups) reach the workers the same way.
  context.repositories.announceChanges((generations) => broadcast(toWire(generations)));
  context.keyring.onChange(() => broadcast({ type: 'keyring' }));

  let lastRotation = '';
  const pushRotation = (force = false) => {
    const status = context.rotation.current();
    const text = JSON.stringify(status);
    if (!force && text === lastRotation) return;
    lastRotation = text;
    for (const worker of live()) sendTo(worker, { rpmgate: 'rotation-status', status });
  };
  const rotationTimer = setInterval(() => pushRotation(), 500);

  const answer = async (worker: Worker, message: ToSupervisor) => {
    switch (message.rpmgate) {
      case 'ack':
        settle(message.id, worker.id, message.value);
        return;
      case 'announce':
        if (message.event.type === 'generations') context.repositories.adopt(fromWire(message.event));
        else await context.keyring.reload();
        await broadcast(message.event, worker);
        sendTo(worker, { rpmgate: 'announced', id: message.id });
        return;
      case 'request':
        try {
          let value: unknown;
          if (message.request.type === 'rotation-start') {
            await context.keyring.reload();
            value = await context.rotation.start();
            pushRotation(true);
          } else {
            const perWorker = await gather((id) => ({ rpmgate: 'collect-metrics', id }));
            value = await aggregateExpositions(context.metrics.registry, perWorker);
          }
          sendTo(worker, { rpmgate: 'reply', id: message.id, ok: true, value });
        } catch (error) {
          sendTo(worker, { rpmgate: 'reply', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
        }
        return;
      case 'failed':
        // A worker that cannot start (the port is in use) stops the whole server with its reason.
        failure ??= new RpmgateError(isErrorCode(message.code) ? message.code : 'internal', message.message);
        requestStop();
        return;
    }
  };

  let stopNow!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopNow = resolve));
  const requestStop = () => stopNow();
  void stopRequested.then(requestStop);

  const fork = () => {
    const worker = cluster.fork({ [workerDatabaseVariable]: databaseTarget });
    started.set(worker.id, Date.now());
    worker.on('message', (message: unknown) => {
      if (isToSupervisor(message)) void answer(worker, message).catch((error: unknown) => log.error('worker message failed', { err: error }));
    });
    worker.on('listening', (address) => {
      if (listening.size === 0 && !announced) {
        announced = true;
        const host = address.addressType === 6 ? `[${address.address}]` : address.address ?? config.host;
        announce?.({ url: `http://${host}:${address.port}`, context, initialAdminTokenFile: services.initialAdminTokenFile });
      }
      listening.add(worker.id);
      sendTo(worker, { rpmgate: 'rotation-status', status: context.rotation.current() });
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    // Whatever it owed is not coming.
    for (const [id] of pending) settle(id, worker.id);
    const wasListening = listening.delete(worker.id);
    const age = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    if (stopping) return;
    if (!wasListening && failure) return;
    log.warn('worker died; starting another', { pid: worker.process.pid, code, signal });
    setTimeout(() => {
      if (!stopping) fork();
    }, age < quickDeathMs ? 1_000 : 0).unref();
  });

  cluster.setupPrimary({ silent: false });
  for (let index = 0; index < config.workers; index++) fork();
  log.info('rpmgate supervising workers', { workers: config.workers, pid: process.pid });

  await stopSignal;
  stopping = true;
  clearInterval(rotationTimer);
  const workers = live();
  const exits = Object.values(cluster.workers ?? {})
    .filter((worker): worker is Worker => worker !== undefined)
    .map((worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))));
  for (const worker of workers) sendTo(worker, { rpmgate: 'stop' });
  const killer = setTimeout(() => {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker && !worker.isDead()) worker.process.kill('SIGKILL');
  }, stopGraceMs + 5_000);
  await Promise.all(exits);
  clearTimeout(killer);
  await services.close();
  if (failure) throw failure;
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCodes, code);
}
