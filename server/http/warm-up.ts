// Warm-up: what makes a warm URL warm in this process, done without answering. The warm socket
// (warm-socket.ts) keeps a connection only while it answers from memory; a request whose answer memory
// does not hold yet (a worker that has not served this repository, a new generation after a promotion)
// would otherwise hand the connection, and every request after it on that connection, to Node's HTTP
// server. Instead the socket waits for this, then answers from memory as usual. It reads what the
// app's repository route reads (the same functions), so memory ends up as the app would have left it.
import type { AppContext } from '../context.ts';
import { findPackageFile, parseRepoPath } from './routes/repo.ts';

/** Reads what `url` (a repository URL the warm path answers) needs into memory; never rejects. */
export async function warmUp(ctx: AppContext, url: string): Promise<void> {
  try {
    const target = parseRepoPath(url);
    switch (target.kind) {
      case 'repo-file':
        await ctx.repositories.resolve(target.address);
        return;
      case 'repomd':
      case 'repomd-asc': {
        const repo = await ctx.repositories.resolve(target.address);
        await ctx.repodata.snapshot(repo.request);
        return;
      }
      case 'metadata':
        await ctx.repositories.resolve(target.address);
        await ctx.repodata.readFile(target.file);
        return;
      case 'package': {
        const { generations, facts } = await findPackageFile(ctx, target.address, target.filename, target.digest);
        ctx.packageFiles.remember(url, generations, facts);
        return;
      }
      case 'index':
        return;
    }
  } catch {
    // Not found, refused, the database away: the app answers it, and says so.
  }
}
