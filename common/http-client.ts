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
}

export interface RequestOptions {
  /** The shape a successful answer must have; anything else is "not an rpmgate server". */
  expect?: Shape<unknown>;
  /** A successful answer is text/plain (a .repo file), returned as text. */
  plainText?: boolean;
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
    if (success && plainText && mediaType === 'text/plain') return response.text;
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
