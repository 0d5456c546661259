// The Hono environment shared by every router: what middleware puts on the context.
import type { HttpBindings } from '@hono/node-server';
import type { Principal } from '../services/tokens.ts';

export interface HttpEnv {
  /** The Node request and response; absent when the app is asked directly (app.request in tests). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    /** Set by `authenticate`; null when the request carried no credentials. */
    principal: Principal | null;
  };
}
