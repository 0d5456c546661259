// Raw GETs from the rpmgate server for what is not JSON (repodata, packages): the same server URL
// and token as the ApiClient, the same error codes, but the body left as a stream.
import { codeForStatus, RpmgateError } from '../common/errors.ts';
import type { AgentContext } from './context.ts';

/** GET a path on the server (or an absolute URL; the token goes only to the server's origin). */
export async function fetchFromServer(ctx: AgentContext, pathOrUrl: string): Promise<Response> {
  const server = ctx.client().server;
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : server + pathOrUrl;
  const headers: Record<string, string> = {};
  if (ctx.token && new URL(url).origin === new URL(server).origin) headers.authorization = `Bearer ${ctx.token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new RpmgateError('connection', `cannot reach ${server}: ${cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.code ?? cause?.message ?? (error as Error).message)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new RpmgateError(codeForStatus(response.status), `GET ${url} answered ${response.status}`);
  }
  return response;
}

export async function fetchBytesFromServer(ctx: AgentContext, pathOrUrl: string): Promise<Buffer> {
  const response = await fetchFromServer(ctx, pathOrUrl);
  return Buffer.from(await response.arrayBuffer());
}
