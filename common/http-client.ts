// A small client for rpmgate's JSON API, shared by the admin CLI and the host agent. Problem documents
// come back as RpmgateError with the server's code; an unreachable server is a `connection` error.
import { problemShape, type Shape } from './api-shapes.ts';
import { errorCodes, RpmgateError, type ErrorCode } from './errors.ts';
import { sendHttpRequest, TransportError, type TransportResponse } from './http-transport.ts';

export interface ApiClientOptions {
  server: string;
  token?: string | null;
  /** Longest silence of the server in one request (connect, send, answer), in ms. */
  timeoutMs?: number;
  /**
   * How long a request waits for a server on this machine that refuses connections (one that is still
   * starting: `npm start &` and the next command at once), in ms; 0 (the default) fails at once.
   */
  waitForStartMs?: number;
  /**
   * Whether a server of this machine is starting (its data dir locked by a live process); with it, a
   * refused connection is waited for only when this says yes within a few seconds.
   */
  serverStarting?: () => boolean;
  /** Told once when a request starts waiting for the server (the CLI prints it on stderr). */
  onWait?: (message: string) => void;
}

export interface RequestOptions {
  /** The shape a successful answer must have; anything else is "not an rpmgate server". */
  expect?: Shape<unknown>;
  /** A successful answer is text (a .repo file as text/plain, the key file as application/pgp-keys), returned as text. */
  plainText?: boolean;
  json?: unknown;
  /** The body, or a function making it (a stream can be sent only once; the wait for a starting server may send twice). */
  body?: BodyInit | (() => BodyInit);
  headers?: Record<string, string>;
  /** Statuses returned instead of thrown (e.g. 404 for "is it there?"). */
  accept?: number[];
  timeoutMs?: number | null;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClient {
  readonly server: string;
  private readonly token: string | null;
  private readonly timeoutMs: number;
  private waitForStartMs: number;
  private readonly onWait: (message: string) => void;
  private readonly serverStarting: (() => boolean) | null;

  constructor(options: ApiClientOptions) {
    this.server = normaliseServer(options.server);
    this.token = options.token ?? null;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.waitForStartMs = isLoopback(this.server) ? (options.waitForStartMs ?? 0) : 0;
    this.onWait = options.onWait ?? (() => undefined);
    this.serverStarting = options.serverStarting ?? null;
  }

  /** Polls serverStarting() for up to 3 s: a server just started may not have locked its data dir yet. */
  private async seesServerStarting(): Promise<boolean> {
    if (!this.serverStarting) return true;
    for (const deadline = Date.now() + 3000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      if (this.serverStarting()) return true;
    }
    return false;
  }

  /**
   * Waits until the server answers GET /healthz with "ok" (refused connections and 503 while it starts),
   * at most `timeoutMs`; a server that is not rpmgate fails at once.
   */
  async waitUntilUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      try {
        const response = await sendHttpRequest({ method: 'GET', url: `${this.server}/healthz`, headers: { accept: 'application/json' }, timeoutMs: 2_000 });
        const health = this.readAnswer('GET', '/healthz', response, response.status === 503, false) as { status?: unknown } | null;
        if (response.status === 200 && health?.status === 'ok') return;
        if (response.status !== 503) throw new RpmgateError('not_rpmgate', `${this.server}: not an rpmgate server (its answer to GET /healthz is not its health)`);
        last = 'its database is not available yet';
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        last = describeTransportError(error, this.server);
      }
      if (Date.now() >= deadline) {
        throw new RpmgateError('connection', `${this.server} did not come up within ${Math.round(timeoutMs / 1000)} s (${last})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const makeBody = (): BodyInit | undefined => {
      if (options.json !== undefined) return JSON.stringify(options.json);
      return typeof options.body === 'function' ? options.body() : options.body;
    };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const timeout = options.timeoutMs === undefined ? this.timeoutMs : options.timeoutMs;
    const send = () => sendHttpRequest({ method, url: this.server + path, headers, body: requestBody(makeBody()), timeoutMs: timeout });
    let response: TransportResponse;
    try {
      response = await send().catch(async (error: unknown) => {
        // A local server that is starting refuses connections for a few seconds: wait for it, once.
        if (!(error instanceof TransportError && error.code === 'ECONNREFUSED' && this.waitForStartMs > 0)) throw error;
        if (!(await this.seesServerStarting())) throw error;
        const waitMs = this.waitForStartMs;
        this.waitForStartMs = 0;
        this.onWait(`waiting up to ${Math.round(waitMs / 1000)} s for ${this.server} to start (connection refused)`);
        await this.waitUntilUp(waitMs);
        return send();
      });
    } catch (error) {
      if (error instanceof RpmgateError) throw error;
      throw new RpmgateError('connection', `cannot reach ${this.server}: ${describeTransportError(error, this.server)}`);
    }
    const accepted = (response.status >= 200 && response.status < 300) || options.accept?.includes(response.status) === true;
    const answer = this.readAnswer(method, path, response, accepted, options.plainText === true);
    if (response.status >= 200 && response.status < 300) {
      if (options.expect && !options.expect.test(answer)) {
        throw new RpmgateError('not_rpmgate', `${this.server}: not an rpmgate server (its answer to ${method} ${path} is not ${options.expect.what})`);
      }
      return { status: response.status, body: answer as T };
    }
    if (accepted) return { status: response.status, body: answer as T };
    const error = problemToError(answer as ProblemBody);
    // rpmgate has no such route: the --server URL points at the wrong place (e.g. a path prefix).
    if (error.code === 'no_route') throw new RpmgateError('no_route', `${this.server}: not an rpmgate API URL (${error.message})`);
    throw error;
  }

  /**
   * The answer's JSON, after checking that rpmgate sent it: JSON for successes, a problem document for
   * failures. A gateway's error page (5xx, not JSON) in front of rpmgate is "unavailable", or returned
   * when the caller accepts that status (the agent retries it); anything else is not rpmgate.
   */
  private readAnswer(method: string, path: string, response: TransportResponse, accepted: boolean, plainText: boolean): unknown {
    const mediaType = (response.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const isJson = mediaType === 'application/json' || mediaType === 'application/problem+json';
    const success = response.status >= 200 && response.status < 300;
    if (success && response.text === '' && response.status === 204) return null;
    if (success && plainText && (mediaType === 'text/plain' || mediaType === 'application/pgp-keys')) return response.text;
    const body = isJson ? parseJson(response.text) : undefined;
    if (body !== undefined && ((success && !plainText) || problemShape.test(body))) return body;
    // A status the caller handles by its number alone (the agent retries 429 and 5xx, whoever sent them).
    if (accepted && !success) return body ?? response.text;
    const what = `${mediaType || 'no content type'}${success ? '' : `, HTTP ${response.status}`}`;
    if (response.status >= 500 && !isJson) {
      throw new RpmgateError('unavailable', `${this.server}: HTTP ${response.status} (${mediaType || 'no content type'}) from a gateway in front of rpmgate, or not an rpmgate server`);
    }
    throw new RpmgateError('not_rpmgate', `${this.server}: not an rpmgate server (${what} answer to ${method} ${path})`);
  }

  get<T = unknown>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = unknown>(path: string, json: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, json });
  }
}

function normaliseServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new RpmgateError('usage', `the server must be a URL such as http://127.0.0.1:8080, not "${server}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** The parsed JSON, or undefined when the text is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface ProblemBody {
  code: string;
  detail: string;
  [member: string]: unknown;
}

function problemToError(problem: ProblemBody): RpmgateError {
  const code: ErrorCode = problem.code in errorCodes ? (problem.code as ErrorCode) : 'internal';
  const { type: _type, title: _title, status: _status, detail, code: _code, ...extra } = problem;
  return new RpmgateError(code, detail, extra);
}

/** Why no answer came, in words a person acts on: never a bare system code or an OpenSSL string. */
export function describeTransportError(error: unknown, server: string): string {
  if (!(error instanceof TransportError)) return error instanceof Error ? error.message : String(error);
  const url = new URL(server);
  const hostPort = url.host + (url.port ? '' : url.protocol === 'https:' ? ':443' : ':80');
  const code = error.code ?? '';
  if (code === 'ETIMEDOUT') return 'the request timed out';
  if (code === 'ECONNREFUSED') return `connection refused (nothing listens on ${hostPort}; is the server running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name ${url.hostname} is unknown (DNS)`;
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return url.protocol === 'http:' ? 'the server closed the connection (if it speaks TLS, use an https:// URL)' : 'the server closed the connection';
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${url.hostname} (network unreachable)`;
  if (code === 'EPROTO' || /wrong version number|packet length too long|unknown protocol/i.test(error.message)) {
    return 'TLS expected but the server speaks plain HTTP (use an http:// URL)';
  }
  if (code.startsWith('HPE_')) return 'the server does not speak HTTP (if it speaks TLS, use an https:// URL)';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return `its TLS certificate is not trusted (${code === 'CERT_HAS_EXPIRED' ? 'expired' : code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `not issued for ${url.hostname}` : 'self-signed or from an unknown authority; NODE_EXTRA_CA_CERTS=FILE adds a CA'})`;
  }
  if (code === 'ERR_SOCKET_BAD_PORT') return `${url.port} is not a port a server listens on`;
  return error.message.split('\n')[0] ?? code;
}

/** The server runs on this machine (a loopback address or localhost): it may be one that is starting. */
function isLoopback(server: string): boolean {
  const host = new URL(server).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** The bodies the transport sends: text, bytes or a stream (uploads); anything else is a mistake here. */
function requestBody(body: BodyInit | undefined): string | Uint8Array | ReadableStream<Uint8Array> | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'object' && 'getReader' in body) return body as ReadableStream<Uint8Array>;
  throw new RpmgateError('internal', 'unsupported request body');
}
