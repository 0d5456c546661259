// The warm path: requests answered in front of the app, straight to Node's response, when memory holds
// exactly what the app would answer: repodata (repomd-fast-path.ts), package files the app has
// answered in the current repository generations, and the public key (warm-files.ts). These are what
// every dnf run asks; the framework's Request, Response and middleware cost more than the answer
// itself (profiled). Anything else, or anything in doubt (a host not allowed, repository auth, a
// percent-encoded or queried URL, a damaged blob), goes on to the app, which answers it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import { routeSymbol, warmRoutes, warmSymbol } from '../ops/metrics.ts';
import { answerFile } from './file-response.ts';
import { hostPolicy } from './host-check.ts';
import { repomdFastPath } from './repomd-fast-path.ts';
import { parseRepoPath, repoFileHeaders } from './routes/repo.ts';
import { renderRepoFileFor } from '../services/repo-file.ts';
import { answerWarmPackage, headerOf } from './warm-files.ts';

export interface FastPath {
  /** Answers the request and returns true, or returns false having written nothing. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests answered here since the server started. */
  readonly answered: number;
}

export function warmPath(ctx: AppContext): FastPath {
  const hosts = hostPolicy(ctx.config);
  const repodata = repomdFastPath(ctx);

  const answerKey = (req: IncomingMessage, res: ServerResponse): boolean => {
    const reply = answerFile({ method: req.method!, header: (name) => headerOf(req, name) }, ctx.publicKey.file());
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? undefined);
    return true;
  };

  const answerPackage = (req: IncomingMessage, res: ServerResponse, url: string): boolean => {
    const facts = ctx.packageFiles.find(url, ctx.repositories.generationsInMemory());
    const blobFile = facts && ctx.store.localFile(facts.sha256);
    return facts !== null && blobFile !== null && answerWarmPackage(req, res, facts, blobFile);
  };

  const answerRepoFile = (req: IncomingMessage, res: ServerResponse, url: string): boolean => {
    const target = parseRepoPath(url);
    if (target.kind !== 'repo-file') return false;
    const repo = ctx.repositories.resolveFromMemory(target.address);
    if (!repo) return false;
    // As the app: the base URL configured, or the origin the host asked for (allowed by the host check;
    // this listener speaks plain HTTP, TLS ends in front of it).
    const base = ctx.config.baseUrl ?? new URL(`http://${req.headers.host}`).origin;
    const text = Buffer.from(renderRepoFileFor(target.address, { base, title: repo.title, needsAuth: ctx.config.repoAuth }), 'utf8');
    res.writeHead(200, repoFileHeaders(text.length));
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };

  const route = (url: string): keyof typeof warmRoutes | null => {
    if (url === '/keys/rpmgate.asc') return 'key';
    if (!url.startsWith('/repo/') || url.startsWith('/repo/mirror/')) return null;
    if (url.includes('/repodata/')) return 'repodata';
    if (url.includes('/Packages/')) return 'package';
    if (url.endsWith('.repo')) return 'repoFile';
    return null;
  };

  let answered = 0;
  const answerWarm = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url;
    if (!url || url.includes('%') || url.includes('?') || url.includes('#')) return false;
    const kind = route(url);
    // The key is public even with repository auth (a new host needs it before it holds a token).
    if (kind === null || (kind !== 'key' && ctx.config.repoAuth)) return false;
    // A host the app refuses is refused there (host-check.ts).
    if (!hosts.allows(req.headers.host, req.socket.localPort)) return false;
    let done: boolean;
    try {
      done =
        kind === 'key' ? answerKey(req, res)
        : kind === 'package' ? answerPackage(req, res, url)
        : kind === 'repoFile' ? answerRepoFile(req, res, url)
        : repodata(req, res);
    } catch {
      // Whatever the app makes of it (a problem document, say) is the answer.
      return false;
    }
    if (!done) return false;
    const tags = res as unknown as Record<symbol, unknown>;
    tags[routeSymbol] = warmRoutes[kind];
    tags[warmSymbol] = true;
    answered++;
    return true;
  };
  return Object.defineProperty(answerWarm, 'answered', { get: () => answered }) as FastPath;
}
