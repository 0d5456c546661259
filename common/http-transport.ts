// One HTTP request over node:http or node:https, its answer read whole as text: what ApiClient sends
// its JSON calls and uploads with. Not fetch: Node's fetch (undici) costs about 40 MB of resident memory
// and tens of milliseconds of compilation the first time it runs in a process, which the host agent
// would pay on every hourly or dnf-triggered report (bench/agent.ts measures it).
import { Readable } from 'node:stream';

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array> | null;
  /** Longest wait for the server with nothing happening (connect, send, answer), or null for none. */
  timeoutMs: number | null;
}

export interface TransportResponse {
  status: number;
  /** The Content-Type header as sent, or null. */
  contentType: string | null;
  text: string;
}

/** Why a request got no answer: `code` is the system's (ECONNREFUSED, ENOTFOUND, ...) or ETIMEDOUT. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export async function sendHttpRequest(request: TransportRequest): Promise<TransportResponse> {
  const url = new URL(request.url);
  // Only what the URL needs is loaded: TLS for https alone.
  const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers = { ...request.headers };
  const body = request.body ?? null;
  if (typeof body === 'string' || body instanceof Uint8Array) headers['content-length'] ??= String(Buffer.byteLength(body));
  return new Promise<TransportResponse>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => reject(new TransportError(error.message, error.code ?? null));
    const outgoing = send(url, { method: request.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'] ?? null, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', fail);
    });
    outgoing.on('error', fail);
    if (request.timeoutMs !== null) {
      outgoing.setTimeout(request.timeoutMs, () => outgoing.destroy(Object.assign(new Error('the request timed out'), { code: 'ETIMEDOUT' })));
    }
    if (body === null || typeof body === 'string' || body instanceof Uint8Array) {
      outgoing.end(body ?? undefined);
    } else {
      const stream = Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
      stream.on('error', (error) => outgoing.destroy(error));
      stream.pipe(outgoing);
    }
  });
}
