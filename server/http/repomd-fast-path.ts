// The warm answer to GET and HEAD of .../repodata/repomd.xml(.asc) and of the metadata files it names
// (when the repodata memory holds them): the request every dnf run makes (makecache, every
// metadata_expire), answered from memory without the framework's Request, Response and middleware
// (profiled: those cost more than the rest). It answers only what memory holds exactly as the Hono
// route would (the same parser, the same file answer, the same snapshot); anything else (a cold or
// changed repository, a Range, a path with percent-encoding or a query, repository auth, a host not
// allowed, an error) goes on to the app, which answers it.
//
// The answer to a plain GET is kept per URL with what it was made from: the repository generations
// (the object RepoDirectory replaces on every change) and the snapshot (repomd.xml) or the bytes the
// repodata memory holds (a metadata file). While those are the ones in memory, the same bytes and
// headers are the answer, and nothing is parsed or built again.
import type { AppContext } from '../context.ts';
import type { RepodataSnapshot } from '../repodata/cache.ts';
import type { RepoRequest } from '../repodata/cache.ts';
import { answerFile, type FileAnswer, type FileSource } from './file-response.ts';
import { metadataFile, parseRepoPath, repomdFile } from './routes/repo.ts';
import { warmRoutes } from '../ops/metrics.ts';
import { isPlainGet, type RoutedWarmReply, type WarmRequest } from './warm-answer.ts';

/** The answer to the request, or null when the app must answer it. */
export type WarmAnswer = (request: WarmRequest) => RoutedWarmReply | null;

interface KeptAnswer {
  generations: object;
  request: RepoRequest;
  /** What repomd.xml was answered from; null for a metadata file (named by its checksum, immutable). */
  snapshot: RepodataSnapshot | null;
  /** A metadata file's name and the bytes the repodata memory held for it (kept while it still does). */
  metadata: { name: string; bytes: Buffer } | null;
  file: FileSource;
  /** The answer to a GET without conditions. */
  plain: RoutedWarmReply | null;
}

/** URLs whose answers are kept; a crawl of random URLs starts the map over rather than grow it. */
const maxKeptAnswers = 10_000;
/**
 * Metadata files kept here are small ones, and few: a kept answer holds its bytes, which the repodata
 * memory's budget would otherwise have let go (a large primary.xml.gz is looked up there each time).
 */
const maxKeptMetadataFileBytes = 256 * 1024;
const maxKeptMetadataBytes = 16 * 1024 * 1024;

export function repomdFastPath(ctx: AppContext): WarmAnswer {
  const kept = new Map<string, KeptAnswer>();
  let keptMetadataBytes = 0;

  const keep = (url: string): KeptAnswer | null => {
    const generations = ctx.repositories.generationsInMemory();
    if (!generations) return null;
    const target = parseRepoPath(url);
    if (target.kind !== 'repomd' && target.kind !== 'repomd-asc' && target.kind !== 'metadata') return null;
    const repo = ctx.repositories.resolveFromMemory(target.address);
    if (!repo) return null;
    let snapshot: RepodataSnapshot | null = null;
    let metadata: KeptAnswer['metadata'] = null;
    let file: FileSource | null = null;
    if (target.kind === 'metadata') {
      // As the route: any existing repository serves any metadata file, from memory here.
      const bytes = ctx.repodata.hotFile(target.file);
      file = bytes && metadataFile(target.file, { bytes }, bytes.length);
      metadata = bytes && { name: target.file, bytes };
    } else {
      snapshot = ctx.repodata.readySnapshot(repo.request);
      file = snapshot && repomdFile(snapshot, repo, target.kind === 'repomd-asc');
    }
    if (!file) return null;
    const answer: KeptAnswer = { generations, request: repo.request, snapshot, metadata, file, plain: routed(answerFile({ method: 'GET', header: () => null }, file)) };
    const addedBytes = metadata?.bytes.length ?? 0;
    if (addedBytes > maxKeptMetadataFileBytes) return answer;
    if (kept.size >= maxKeptAnswers || keptMetadataBytes + addedBytes > maxKeptMetadataBytes) {
      kept.clear();
      keptMetadataBytes = 0;
    }
    kept.set(url, answer);
    keptMetadataBytes += addedBytes;
    return answer;
  };

  return function answerWarmRepomd(request: WarmRequest): RoutedWarmReply | null {
    // warm-path.ts has checked the method, the host, repository auth and the URL's characters.
    const url = request.url;
    if (request.header('range') !== null) return null;
    try {
      let answer = kept.get(url) ?? null;
      if (
        !answer ||
        answer.generations !== ctx.repositories.generationsInMemory() ||
        (answer.snapshot !== null && ctx.repodata.readySnapshot(answer.request) !== answer.snapshot) ||
        (answer.metadata !== null && ctx.repodata.hotFile(answer.metadata.name) !== answer.metadata.bytes)
      ) {
        answer = keep(url);
      }
      if (!answer) return null;
      return isPlainGet(request) ? answer.plain : routed(answerFile(request, answer.file));
    } catch {
      // Whatever the app makes of it (a 404 problem document, say) is the answer.
      return null;
    }
  };
}

/** The answer as the warm path writes it: from memory only (a large file on disk is the app's to stream). */
function routed(answer: FileAnswer): RoutedWarmReply | null {
  if (answer.body !== null && !Buffer.isBuffer(answer.body)) return null;
  return { status: answer.status, headers: answer.headers, body: answer.body, route: warmRoutes.repodata };
}
