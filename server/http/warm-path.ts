// The warm path: requests answered in front of the app when memory holds exactly what the app would
// answer: repodata (repomd-fast-path.ts), package files the app has answered in the current repository
// generations, the public key (warm-files.ts) and .repo files. These are what every dnf run asks; the
// framework's Request, Response and middleware cost more than the answer itself (profiled). Anything
// else, or anything in doubt (a host not allowed, repository auth, a percent-encoded or queried URL, a
// damaged blob), goes on to the app, which answers it.
//
// warmAnswers() decides and makes the answer; two transports write it: warmPath() onto Node's
// response (for requests Node's HTTP server parsed) and warm-socket.ts straight onto the connection.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { AppContext } from '../context.ts';
import { routeSymbol, warmRoutes, warmSymbol } from '../ops/metrics.ts';
import { renderRepoFileFor } from '../services/repo-file.ts';
import { answerFile, type FileSource } from './file-response.ts';
import { hostPolicy } from './host-check.ts';
import { repomdFastPath } from './repomd-fast-path.ts';
import { parseRepoPath, repoFileHeaders } from './routes/repo.ts';
import { isPlainGet, type RoutedWarmReply, type WarmRequest } from './warm-answer.ts';
import { answerWarmPackage, headerOf, type PackageFileFacts } from './warm-files.ts';
import { warmUp } from './warm-up.ts';

export interface WarmAnswers {
  /** The answer to the request, or null (nothing kept open) when the app must answer it. */
  answer(request: WarmRequest): RoutedWarmReply | null;
  /**
   * For a request `answer` refused: a promise that settles once memory holds what the app would have
   * read for it (warm-up.ts), when that could make it warm; null when nothing can (not a warm URL, a
   * host or auth the app must judge, a package file already known but not answerable from here).
   */
  warmUp(request: WarmRequest): Promise<void> | null;
  /** Requests answered warm since the server started, by either transport. */
  readonly answered: number;
}

export function warmAnswers(ctx: AppContext): WarmAnswers {
  const hosts = hostPolicy(ctx.config);
  const repodata = repomdFastPath(ctx);

  // The answer to a plain GET of the key, made once per published key file.
  let plainKey: { file: FileSource; reply: RoutedWarmReply } | null = null;
  const answerKey = (request: WarmRequest): RoutedWarmReply => {
    const file = ctx.publicKey.file();
    const plain = isPlainGet(request);
    if (plain && plainKey?.file === file) return plainKey.reply;
    const answer = answerFile(request, file);
    const reply = { status: answer.status, headers: answer.headers, body: Buffer.isBuffer(answer.body) ? answer.body : null, route: warmRoutes.key };
    if (plain) plainKey = { file, reply };
    return reply;
  };

  // The blob's local file per remembered facts: made once, not on every answer (a path join and checks).
  const blobFiles = new WeakMap<PackageFileFacts, string | null>();
  const blobFileOf = (facts: PackageFileFacts): string | null => {
    let file = blobFiles.get(facts);
    if (file === undefined) blobFiles.set(facts, (file = ctx.store.localFile(facts.sha256)));
    return file;
  };

  const answerPackage = (request: WarmRequest): RoutedWarmReply | null => {
    const facts = ctx.packageFiles.find(request.url, ctx.repositories.generationsInMemory());
    const blobFile = facts && blobFileOf(facts);
    const reply = facts !== null && blobFile !== null ? answerWarmPackage(request, facts, blobFile, ctx.packageFiles) : null;
    return reply && { status: reply.status, headers: reply.headers, body: reply.body, route: warmRoutes.package };
  };

  const answerRepoFile = (request: WarmRequest): RoutedWarmReply | null => {
    const target = parseRepoPath(request.url);
    if (target.kind !== 'repo-file') return null;
    const repo = ctx.repositories.resolveFromMemory(target.address);
    if (!repo) return null;
    // As the app: the base URL configured, or the origin the host asked for (allowed by the host check;
    // this listener speaks plain HTTP, TLS ends in front of it).
    const base = ctx.config.baseUrl ?? new URL(`http://${request.host}`).origin;
    const text = Buffer.from(renderRepoFileFor(target.address, { base, title: repo.title, needsAuth: ctx.config.repoAuth }), 'utf8');
    return { status: 200, headers: repoFileHeaders(text.length), body: request.method === 'HEAD' ? null : text, route: warmRoutes.repoFile };
  };

  const route = (url: string): keyof typeof warmRoutes | null => {
    if (url === '/keys/rpmgate.asc') return 'key';
    if (!url.startsWith('/repo/') || url.startsWith('/repo/mirror/')) return null;
    if (url.includes('/repodata/')) return 'repodata';
    if (url.includes('/Packages/')) return 'package';
    if (url.endsWith('.repo')) return 'repoFile';
    return null;
  };

  /** What kind of warm answer the request asks for, or null when only the app may answer it. */
  const warmKind = (request: WarmRequest): keyof typeof warmRoutes | null => {
    const url = request.url;
    if (url.includes('%') || url.includes('?') || url.includes('#')) return null;
    const kind = route(url);
    // The key is public even with repository auth (a new host needs it before it holds a token).
    if (kind === null || (kind !== 'key' && ctx.config.repoAuth)) return null;
    // A host the app refuses is refused there (host-check.ts).
    if (!hosts.allows(request.host, request.localPort)) return null;
    return kind;
  };

  let answered = 0;
  return {
    get answered() {
      return answered;
    },
    warmUp(request) {
      const kind = warmKind(request);
      if (kind === null || kind === 'key') return null;
      // A package URL already known is not answered here for a reason warming cannot change (a large
      // file to stream, a blob not on local disk or damaged).
      if (kind === 'package' && ctx.packageFiles.find(request.url, ctx.repositories.generationsInMemory())) return null;
      return warmUp(ctx, request.url);
    },
    answer(request) {
      const kind = warmKind(request);
      if (kind === null) return null;
      let reply: RoutedWarmReply | null;
      try {
        reply =
          kind === 'key' ? answerKey(request)
          : kind === 'package' ? answerPackage(request)
          : kind === 'repoFile' ? answerRepoFile(request)
          : repodata(request);
      } catch {
        // Whatever the app makes of it (a problem document, say) is the answer.
        return null;
      }
      if (reply === null) return null;
      answered++;
      return reply;
    },
  };
}

export interface FastPath {
  /** Answers the request and returns true, or returns false having written nothing. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests answered warm since the server started (by this path or the warm socket). */
  readonly answered: number;
}

/** The warm answers written onto Node's response. */
export function warmPath(answers: WarmAnswers): FastPath {
  const answerWarm = (req: IncomingMessage, res: ServerResponse): boolean => {
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || !req.url) return false;
    const reply = answers.answer({
      method,
      url: req.url,
      host: req.headers.host,
      localPort: req.socket.localPort,
      header: (name) => headerOf(req, name),
      streams: true,
    });
    if (!reply) return false;
    const tags = res as unknown as Record<symbol, unknown>;
    tags[routeSymbol] = reply.route;
    tags[warmSymbol] = true;
    res.writeHead(reply.status, reply.headers);
    const body = reply.body;
    if (body === null || Buffer.isBuffer(body)) {
      res.end(body ?? undefined);
      return true;
    }
    const stream = createReadStream('', { fd: body.fd, start: body.start, end: body.end, highWaterMark: 256 * 1024, autoClose: true });
    // pipeline destroys the file stream (closing the descriptor) when the client goes away mid-answer.
    pipeline(stream, res, () => {});
    return true;
  };
  return Object.defineProperty(answerWarm, 'answered', { get: () => answers.answered }) as FastPath;
}
