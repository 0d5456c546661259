// What the console's middleware puts on the request context, beside the API's principal.
import type { HttpEnv } from '../http/env.ts';
import type { ConsoleSession } from './session.ts';

export interface ConsoleEnv {
  Variables: HttpEnv['Variables'] & {
    /** The session the cookie names; set by readConsoleSession, null when there is none. */
    session: ConsoleSession | null;
  };
}

/** What every page is rendered with: who is looking, the form token, and where they are. */
export interface PageContext {
  session: ConsoleSession;
  /** The request's path and query, e.g. /ui/hosts?page=2. */
  url: URL;
}
