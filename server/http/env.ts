// The Hono environment shared by every router: what middleware puts on the context.
import type { Principal } from '../services/tokens.ts';

export interface HttpEnv {
  Variables: {
    /** Set by `authenticate`; null when the request carried no credentials. */
    principal: Principal | null;
  };
}
