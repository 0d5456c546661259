// The warm answer to GET and HEAD of .../repodata/repomd.xml(.asc) and of the metadata files it names
// (when the repodata memory holds them), written straight to Node's
// response: the request every dnf run makes (makecache, every metadata_expire), answered from memory
// without the framework's Request, Response and middleware (profiled: those cost more than the
// rest). It answers only what memory holds exactly as the Hono route would (the same parser, the same
// file answer, the same snapshot); anything else (a cold or changed repository, a Range, a path with
// percent-encoding or a query, repository auth, a host not allowed, an error) goes on to the app,
// which answers it.
//
// The answer to a plain GET is kept per URL with what it was made from: the repository generations
// (the object RepoDirectory replaces on every change) and the snapshot. While both are the ones in
// memory, the same bytes and headers are the answer, and nothing is parsed or built again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import type { RepodataSnapshot } from '../repodata/cache.ts';
import type { RepoRequest } from '../repodata/cache.ts';
import { answerFile, type FileAnswer, type FileSource } from './file-response.ts';
import { headerOf } from './warm-files.ts';
import { metadataFile, parseRepoPath, repomdFile } from './routes/repo.ts';

/** Answers the request and returns true, or returns false having written nothing. */
export type WarmAnswer = (req: IncomingMessage, res: ServerResponse) => boolean;

interface KeptAnswer {
  generations: object;
  request: RepoRequest;
  /** What repomd.xml was answered from; null for a metadata file (named by its checksum, immutable). */
  snapshot: RepodataSnapshot | null;
  file: FileSource;
  /** The answer to a GET without conditions. */
  plain: FileAnswer;
}

/** URLs whose answers are kept; a crawl of random URLs starts the map over rather than grow it. */
const maxKeptAnswers = 10_000;

export function repomdFastPath(ctx: AppContext): WarmAnswer {
  const kept = new Map<string, KeptAnswer>();

  const keep = (url: string): KeptAnswer | null => {
    const generations = ctx.repositories.generationsInMemory();
    if (!generations) return null;
    const target = parseRepoPath(url);
    if (target.kind !== 'repomd' && target.kind !== 'repomd-asc' && target.kind !== 'metadata') return null;
    const repo = ctx.repositories.resolveFromMemory(target.address);
    if (!repo) return null;
    let snapshot: RepodataSnapshot | null = null;
    let file: FileSource | null = null;
    if (target.kind === 'metadata') {
      // As the route: any existing repository serves any metadata file, from memory here.
      const bytes = ctx.repodata.hotFile(target.file);
      file = bytes && metadataFile(target.file, { bytes }, bytes.length);
    } else {
      snapshot = ctx.repodata.readySnapshot(repo.request);
      file = snapshot && repomdFile(snapshot, repo, target.kind === 'repomd-asc');
    }
    if (!file) return null;
    const answer: KeptAnswer = { generations, request: repo.request, snapshot, file, plain: answerFile({ method: 'GET', header: () => null }, file) };
    // Metadata files are looked up in the repodata memory each time, so that its budget bounds them.
    if (snapshot === null) return answer;
    if (kept.size >= maxKeptAnswers) kept.clear();
    kept.set(url, answer);
    return answer;
  };

  return function answerWarmRepomd(req: IncomingMessage, res: ServerResponse): boolean {
    // warm-path.ts has checked the method, the host, repository auth and the URL's characters.
    const url = req.url!;
    if (req.headers.range !== undefined) return false;
    try {
      let answer = kept.get(url) ?? null;
      if (
        !answer ||
        answer.generations !== ctx.repositories.generationsInMemory() ||
        (answer.snapshot !== null && ctx.repodata.readySnapshot(answer.request) !== answer.snapshot)
      ) {
        answer = keep(url);
      }
      if (!answer) return false;
      const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
      const reply = req.method === 'GET' && !conditional ? answer.plain : answerFile({ method: req.method!, header: (name) => headerOf(req, name) }, answer.file);
      if (reply.body !== null && !Buffer.isBuffer(reply.body)) return false;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? undefined);
      return true;
    } catch {
      // Whatever the app makes of it (a 404 problem document, say) is the answer.
      return false;
    }
  };
}
