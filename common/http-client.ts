// A small client for rpmgate's JSON API, shared by the admin CLI and the host agent. Problem documents
// come back as RpmgateError with the server's code; an unreachable server is a `connection` error.
import { codeForStatus, errorCodes, RpmgateError, type ErrorCode } from './errors.ts';
import { sendHttpRequest, TransportError, type TransportResponse } from './http-transport.ts';

export interface ApiClientOptions {
  server: string;
  token?: string | null;
  /** Longest silence of the server in one request (connect, send, answer), in ms. */
  timeoutMs?: number;
}

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
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

  constructor(options: ApiClientOptions) {
    this.server = normaliseServer(options.server);
    this.token = options.token ?? null;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const timeout = options.timeoutMs === undefined ? this.timeoutMs : options.timeoutMs;
    let response: TransportResponse;
    try {
      response = await sendHttpRequest({ method, url: this.server + path, headers, body: requestBody(body), timeoutMs: timeout });
    } catch (error) {
      throw new RpmgateError('connection', `cannot reach ${this.server}: ${describeTransportError(error)}`);
    }
    const { text } = response;
    const parsed = parseBody(text);
    if ((response.status >= 200 && response.status < 300) || options.accept?.includes(response.status)) return { status: response.status, body: parsed as T };
    throw problemToError(response.status, parsed, text);
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

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function problemToError(status: number, body: unknown, text: string): RpmgateError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof problem.code === 'string' && problem.code in errorCodes ? (problem.code as ErrorCode) : codeForStatus(status);
  const detail = typeof problem.detail === 'string' ? problem.detail : text.slice(0, 200) || `HTTP ${status}`;
  const { type: _type, title: _title, status: _status, detail: _detail, code: _code, ...extra } = problem;
  return new RpmgateError(code, detail, extra);
}

function describeTransportError(error: unknown): string {
  if (error instanceof TransportError) {
    if (error.code === 'ETIMEDOUT') return 'the request timed out';
    if (error.code === 'ECONNREFUSED') return 'connection refused';
    return error.code ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The bodies the transport sends: text, bytes or a stream (uploads); anything else is a mistake here. */
function requestBody(body: BodyInit | undefined): string | Uint8Array | ReadableStream<Uint8Array> | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'object' && 'getReader' in body) return body as ReadableStream<Uint8Array>;
  throw new RpmgateError('internal', 'unsupported request body');
}
