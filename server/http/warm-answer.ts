// What the warm answers (warm-path.ts) are asked and answer, whatever carried the request: Node's HTTP
// server (warm-path.ts's FastPath) or the warm socket (warm-socket.ts), which reads plain GET and HEAD
// requests off the connection itself.
import type { FileRequest } from './file-response.ts';

export interface WarmRequest extends FileRequest {
  method: 'GET' | 'HEAD';
  /** The request target as sent (origin form). */
  url: string;
  /** The Host header, and the port the connection came in on (for the host check). */
  host: string | undefined;
  localPort: number | undefined;
  /** Whether a large file may be answered as an open descriptor to stream (Node's response can). */
  streams: boolean;
}

/** A byte range of an open file, closed by whoever writes it. */
export interface WarmFileRange {
  fd: number;
  start: number;
  end: number;
}

export interface WarmReply {
  status: number;
  headers: Record<string, string>;
  /** Bytes from memory, nothing (HEAD, 304), or a large file to stream (only when the request `streams`). */
  body: Buffer | null | WarmFileRange;
}

/** A warm reply with the route template it counts under (server/ops/metrics.ts's warmRoutes). */
export interface RoutedWarmReply extends WarmReply {
  route: string;
}

/** A GET without a range or a condition: the one request whose answer can be made once and kept. */
export function isPlainGet(request: WarmRequest): boolean {
  return (
    request.method === 'GET' &&
    request.header('range') === null &&
    request.header('if-none-match') === null &&
    request.header('if-modified-since') === null
  );
}
