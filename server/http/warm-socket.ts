// The warm socket: each connection is read here before Node's HTTP server sees it. A plain GET or HEAD
// that the warm answers hold (warm-path.ts: repodata, package files, the key, .repo files) is answered
// by writing its bytes to the connection; the first request that is anything else goes, from its
// first byte and with the rest of the connection, to Node's HTTP server, which parses it as it would
// have anyway. Why: for these small answers Node's HTTP machinery (parser callbacks, request and
// response objects, header validation, corking, 'finish' events) costs more than the answer. Measured
// on this machine with two processes each: a bare node:http server answering 2 KB from memory ≈ 1.1×
// nginx, the same bytes written to the socket ≈ 1.9× nginx.
//
// Only a strict subset of HTTP/1.1 is read here, so that anything Node would parse differently, refuse
// or need to stream in is never answered here: a request line `GET|HEAD /target HTTP/1.1`, CRLF lines,
// token header names, visible ASCII values, each header once, a Host, no body (no Content-Length,
// Transfer-Encoding or Expect), no Upgrade. Everything else is handed over untouched.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../ops/metrics.ts';
import { requestIdFrom, type AccessLog } from '../ops/request-log.ts';
import type { RoutedWarmReply, WarmRequest } from './warm-answer.ts';
import type { WarmAnswers } from './warm-path.ts';

/** A request head longer than this goes to Node (whose limit is 16 KiB); dnf's are a few hundred bytes. */
const maxHeadBytes = 8 * 1024;
/** Answers up to this size are copied into one buffer, head and body: one write, one segment. */
const scratchBytes = 64 * 1024;

/**
 * A whole request head this socket reads: the request line, then header lines with token names and
 * visible ASCII values (no obs-fold, no bare CR or LF). Linear: a value cannot hold the CR that ends it.
 */
const headPattern = /^(?:GET|HEAD) \/[!-~]* HTTP\/1\.1(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*)*$/;
/** Headers that mean a body, a protocol change or an interim answer: Node's to handle. */
const handedOverHeaders = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer']);
const reasons: Record<number, string> = { 200: 'OK', 206: 'Partial Content', 304: 'Not Modified' };

/** Headers that must come once: what the answer and the connection depend on. */
const singleHeaders = new Set(['host', 'connection', 'x-request-id', 'range', 'if-range', 'if-none-match', 'if-modified-since']);

/** A request read off the socket, with its headers by lowercase name (repeated ones joined, as Node does). */
class SocketRequest implements WarmRequest {
  readonly streams = false;
  requestId = '';

  constructor(
    readonly method: 'GET' | 'HEAD',
    readonly url: string,
    readonly localPort: number | undefined,
    readonly headers: Map<string, string>,
  ) {}

  get host(): string | undefined {
    return this.headers.get('host');
  }

  get close(): boolean {
    return this.headers.get('connection')?.toLowerCase() === 'close';
  }

  header(name: string): string | null {
    return this.headers.get(name) ?? null;
  }
}

export interface WarmSocket {
  /** Connections being read here now (handed-over ones belong to Node's server). */
  readonly held: number;
  /** Ends every connection held here (their answers written so far are flushed first). */
  endAll(): void;
  /** Cuts every connection held here (a client that does not take its answers). */
  destroyAll(): void;
}

/**
 * Puts the warm socket in front of `server`'s own connection handling. Node's HTTP server installs
 * its connection listener when it is made; it is taken off the 'connection' event and called for each
 * connection handed over, so that server keeps listening, counting and closing connections as before.
 */
export function installWarmSocket(server: Server, answers: WarmAnswers, metrics: Metrics, access: AccessLog): WarmSocket {
  const [nodeListener, ...others] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (!nodeListener || others.length > 0) throw new Error('the warm socket expects Node HTTP server\'s connection listener alone');
  server.removeListener('connection', nodeListener);
  const held = new Set<Socket>();
  const writeReply = replyWriter(Math.floor(server.keepAliveTimeout / 1000));

  const take = (socket: Socket): void => {
    held.add(socket);
    socket.setNoDelay(true);
    const localPort = socket.localPort;
    let pending: Buffer | null = null;
    let done = false;
    let answeredOne = false;
    let clientEnded = false;
    let waitingDrain = false;
    /** Memory is being warmed for the request at the front of `pending`; reading waits. */
    let warming = false;
    /** The request at the front of `pending` has been warmed up for once already. */
    let warmedUp = false;
    let warmStartedAt = 0;
    /** When the first byte of the request head now pending arrived. */
    let headStartedAt = 0;

    const stopReading = (): void => {
      done = true;
      socket.removeListener('data', onData);
      socket.removeListener('drain', onDrain);
      socket.removeListener('end', onEnd);
    };

    /** Answered all it asked: the answers are flushed, then the connection ends (or times out, or errs). */
    const finish = (): void => {
      stopReading();
      socket.end();
    };

    const handOver = (): void => {
      stopReading();
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.setTimeout(0);
      held.delete(socket);
      // Paused so that nothing is emitted before Node's listeners are on; the bytes not answered go
      // back in front of the stream, and Node's parser reads them from the first byte of the request.
      socket.pause();
      if (pending !== null) socket.unshift(pending);
      pending = null;
      nodeListener.call(server, socket);
      socket.resume();
    };

    /** Reads what the request's answer needs into memory, then tries it again (once). */
    const warmThenRetry = (warm: Promise<void>): void => {
      warming = true;
      warmStartedAt = performance.now();
      socket.pause();
      // The request is in hand now, not idle: as Node's server, no keep-alive timeout meanwhile.
      socket.setTimeout(0);
      void warm.then(() => {
        warming = false;
        warmedUp = true;
        // Closed meanwhile, or ended by the server's stop (endAll): nothing more is written.
        if (done || socket.writableEnded) return;
        socket.setTimeout(answeredOne ? server.keepAliveTimeout : server.headersTimeout);
        socket.resume();
        pump();
      });
    };

    const pump = (): void => {
      if (warming) return;
      while (!done && pending !== null) {
        const buffer: Buffer = pending;
        // Anything but GET or HEAD is Node's at once, without waiting for its head to end.
        if (!startsLikeWarm(buffer)) return handOver();
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd < 0) {
          if (buffer.length > maxHeadBytes) return handOver();
          break;
        }
        if (headEnd > maxHeadBytes) return handOver();
        // A request answered after a warm-up took that long.
        const started = warmedUp ? warmStartedAt : performance.now();
        const request = parseHead(buffer.toString('latin1', 0, headEnd), localPort);
        if (!request) return handOver();
        const reply = answers.answer(request);
        if (!reply) {
          const warm = warmedUp ? null : answers.warmUp(request);
          return warm ? warmThenRetry(warm) : handOver();
        }
        warmedUp = false;
        pending = headEnd + 4 < buffer.length ? buffer.subarray(headEnd + 4) : null;
        const flushed = writeReply(socket, reply, request);
        if (!answeredOne) {
          answeredOne = true;
          socket.setTimeout(server.keepAliveTimeout);
        }
        metrics.countRequest(request.method, reply.route, reply.status, (performance.now() - started) / 1000);
        if (access.warmLines) {
          access.warm({ requestId: request.requestId, method: request.method, route: reply.route, status: reply.status, durationMs: performance.now() - started });
        }
        if (request.close) return finish();
        if (!flushed) {
          // The client reads slower than it asks: no more answers until it has taken these.
          socket.pause();
          waitingDrain = true;
          socket.once('drain', onDrain);
          return;
        }
      }
      // The client ended its side: what it asked is answered (a head it never finished is dropped).
      if (clientEnded && !done) finish();
    };

    function onData(chunk: Buffer): void {
      if (pending === null) {
        headStartedAt = Date.now();
        pending = chunk;
      } else if (Date.now() - headStartedAt > server.headersTimeout) {
        // A head trickling in byte by byte for longer than Node would wait for it.
        socket.destroy();
        return;
      } else {
        pending = Buffer.concat([pending, chunk]);
      }
      pump();
    }
    function onDrain(): void {
      waitingDrain = false;
      if (done) return;
      socket.resume();
      pump();
    }
    function onTimeout(): void {
      // Idle (or a head that never ends) for as long as Node keeps an idle keep-alive connection.
      socket.destroy();
    }
    function onError(): void {
      // A reset by the client: nothing to answer any more.
      socket.destroy();
    }
    function onClose(): void {
      stopReading();
      held.delete(socket);
    }

    function onEnd(): void {
      // The client has sent all it will (Node's server allows half-open connections): once its
      // requests are answered, we end too.
      clientEnded = true;
      if (!waitingDrain) pump();
    }

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    // As Node's server: a first request head within headersTimeout, then idle for keepAliveTimeout at most.
    socket.setTimeout(server.headersTimeout);
    socket.on('timeout', onTimeout);
  };

  server.on('connection', take);
  return {
    get held() {
      return held.size;
    },
    endAll() {
      for (const socket of held) socket.end();
    },
    destroyAll() {
      for (const socket of held) socket.destroy();
    },
  };
}

function startsLikeWarm(buffer: Buffer): boolean {
  const first = buffer[0];
  if (first !== 0x47 /* G */ && first !== 0x48 /* H */) return false;
  const word = buffer.toString('latin1', 0, Math.min(buffer.length, 5));
  return 'GET '.startsWith(word.slice(0, 4)) || 'HEAD '.startsWith(word);
}

/** The request, or null when it is not one this socket answers (Node's server then reads it). */
function parseHead(head: string, localPort: number | undefined): SocketRequest | null {
  if (!headPattern.test(head)) return null;
  const methodEnd = head.indexOf(' ');
  const urlEnd = head.indexOf(' ', methodEnd + 1);
  const headers = new Map<string, string>();
  for (let lineStart = head.indexOf('\r\n', urlEnd) + 2; lineStart > 1; ) {
    const lineEnd = head.indexOf('\r\n', lineStart);
    const colon = head.indexOf(':', lineStart);
    const name = head.slice(lineStart, colon).toLowerCase();
    const value = head.slice(colon + 1, lineEnd < 0 ? head.length : lineEnd).trim();
    if (handedOverHeaders.has(name)) return null;
    const earlier = headers.get(name);
    if (earlier !== undefined && singleHeaders.has(name)) return null;
    headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
    lineStart = lineEnd + 2;
  }
  if (!headers.get('host')) return null;
  const connection = headers.get('connection')?.toLowerCase();
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') return null;
  const request = new SocketRequest(head.slice(0, methodEnd) as 'GET' | 'HEAD', head.slice(methodEnd + 1, urlEnd), localPort, headers);
  request.requestId = requestIdFrom(headers.get('x-request-id'));
  return request;
}

/**
 * Writes answers onto connections. The part of an answer before its request id (status line and the
 * reply's headers) is made once per reply (plain GETs' replies are kept by the warm answers), the part
 * after it (Date, the connection's state) once a second: per request only the id is written in between.
 */
function replyWriter(keepAliveSeconds: number) {
  const prefixes = new WeakMap<RoutedWarmReply, Buffer>();
  const keepAlive = `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n\r\n`;
  let tailsSecond = -1;
  let tails = { open: Buffer.alloc(0), close: Buffer.alloc(0) };

  const prefixOf = (reply: RoutedWarmReply): Buffer => {
    let prefix = prefixes.get(reply);
    if (!prefix) {
      let head = `HTTP/1.1 ${reply.status} ${reasons[reply.status] ?? 'OK'}\r\n`;
      for (const name in reply.headers) head += `${name}: ${reply.headers[name]}\r\n`;
      prefix = Buffer.from(`${head}x-request-id: `, 'latin1');
      prefixes.set(reply, prefix);
    }
    return prefix;
  };

  const tailOf = (close: boolean): Buffer => {
    const second = Math.floor(Date.now() / 1000);
    if (second !== tailsSecond) {
      tailsSecond = second;
      const date = `\r\ndate: ${new Date(second * 1000).toUTCString()}\r\n`;
      tails = { open: Buffer.from(date + keepAlive, 'latin1'), close: Buffer.from(`${date}connection: close\r\n\r\n`, 'latin1') };
    }
    return close ? tails.close : tails.open;
  };

  // Answers are assembled in one scratch buffer, reused while the kernel takes each write whole (as
  // it does on a connection keeping up): a fresh buffer per answer past 4 KiB (Node's pool) is an
  // ArrayBuffer of its own, and collecting those cost a package answer a fifth of its time (profiled).
  let scratch = Buffer.allocUnsafeSlow(scratchBytes);

  /** Writes the answer; false when the socket's buffer is full (wait for 'drain'). */
  return function writeReply(socket: Socket, reply: RoutedWarmReply, request: SocketRequest): boolean {
    const body = reply.body;
    if (body !== null && !Buffer.isBuffer(body)) throw new Error('the warm socket writes answers from memory only');
    const prefix = prefixOf(reply);
    const tail = tailOf(request.close);
    // The id is visible ASCII (requestIdFrom): one byte per character.
    const id = request.requestId;
    const headLength = prefix.length + id.length + tail.length;
    const inline = body !== null && headLength + body.length <= scratchBytes ? body : null;
    const length = headLength + (inline?.length ?? 0);
    const whole = length <= scratch.length ? scratch.subarray(0, length) : Buffer.allocUnsafe(length);
    prefix.copy(whole, 0);
    whole.write(id, prefix.length, 'latin1');
    tail.copy(whole, prefix.length + id.length);
    if (inline) inline.copy(whole, headLength);
    let flushed: boolean;
    if (body === null || inline) {
      flushed = socket.write(whole);
    } else {
      socket.cork();
      socket.write(whole);
      flushed = socket.write(body);
      socket.uncork();
    }
    // Not taken whole at once: the stream holds on to the bytes until it is, so they are not reused.
    if (whole.buffer === scratch.buffer && socket.writableLength > 0) scratch = Buffer.allocUnsafeSlow(scratchBytes);
    return flushed;
  };
}
