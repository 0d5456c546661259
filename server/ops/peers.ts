// The messages between the supervisor and its HTTP workers (node:cluster IPC), and the worker's side.
//
// What one worker changes in memory must be in every other worker's memory before the request that
// made the change is answered, since the client's next request may reach any of them: a worker
// announces the change to the supervisor, which hands it to every other worker and answers once each
// has taken it (a barrier, a few milliseconds). Generations travel with their values, so no worker
// queries for them; the keyring is read again from its files.
import type { Generations } from '../services/repositories.ts';
import type { RotationStatus } from '../services/key-rotation.ts';

/** A change every process of the server must hold. */
export type PeerEvent =
  | { type: 'generations'; levels: WireGeneration; packages: WireGeneration }
  | { type: 'keyring' };

export interface WireGeneration {
  generation: number;
  /** Milliseconds since the epoch (a Date does not survive the IPC's JSON). */
  changedAt: number;
}

/** What a worker asks of the supervisor. */
export type PeerRequest = { type: 'rotation-start' } | { type: 'metrics' };

export type ToSupervisor =
  | { rpmgate: 'announce'; id: number; event: PeerEvent }
  | { rpmgate: 'request'; id: number; request: PeerRequest }
  | { rpmgate: 'ack'; id: number; value?: unknown }
  /** The worker could not start (a port in use): the supervisor stops the server with this line. */
  | { rpmgate: 'failed'; code: string; message: string };

export type ToWorker =
  | { rpmgate: 'announced'; id: number }
  | { rpmgate: 'reply'; id: number; ok: boolean; value?: unknown; error?: string }
  | { rpmgate: 'event'; id: number; event: PeerEvent }
  | { rpmgate: 'collect-metrics'; id: number }
  | { rpmgate: 'rotation-status'; status: RotationStatus }
  | { rpmgate: 'stop' };

export function toWire(generations: Generations): PeerEvent {
  const wire = (scope: keyof Generations) => ({ generation: generations[scope].generation, changedAt: generations[scope].changedAt.getTime() });
  return { type: 'generations', levels: wire('levels'), packages: wire('packages') };
}

export function fromWire(event: Extract<PeerEvent, { type: 'generations' }>): Generations {
  const read = (wire: WireGeneration) => ({ generation: wire.generation, changedAt: new Date(wire.changedAt) });
  return { levels: read(event.levels), packages: read(event.packages) };
}

function isOurs(message: unknown): boolean {
  return typeof message === 'object' && message !== null && typeof (message as { rpmgate?: unknown }).rpmgate === 'string';
}

export function isToWorker(message: unknown): message is ToWorker {
  return isOurs(message);
}

export function isToSupervisor(message: unknown): message is ToSupervisor {
  return isOurs(message);
}

/** The worker's end of the channel: announcements and requests that wait for the supervisor's answer. */
export class SupervisorLink {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly send: (message: ToSupervisor) => void) {}

  /** Resolves once every other process holds the change (or the supervisor gave up on one). */
  announce(event: PeerEvent): Promise<void> {
    return this.call((id) => ({ rpmgate: 'announce', id, event })).then(() => undefined);
  }

  request(request: PeerRequest): Promise<unknown> {
    return this.call((id) => ({ rpmgate: 'request', id, request }));
  }

  /** Hands a message from the supervisor to the call waiting for it; false when it is not an answer. */
  settle(message: ToWorker): boolean {
    if (message.rpmgate !== 'announced' && message.rpmgate !== 'reply') return false;
    const waiter = this.waiting.get(message.id);
    if (!waiter) return true;
    this.waiting.delete(message.id);
    if (message.rpmgate === 'reply' && !message.ok) waiter.reject(new Error(message.error ?? 'the supervisor refused'));
    else waiter.resolve(message.rpmgate === 'reply' ? message.value : undefined);
    return true;
  }

  /** The supervisor is gone: nothing will answer. */
  abandon(): void {
    for (const waiter of this.waiting.values()) waiter.reject(new Error('the supervisor is gone'));
    this.waiting.clear();
  }

  private call(make: (id: number) => ToSupervisor): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send(make(id));
    });
  }
}
