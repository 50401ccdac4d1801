import type { Logger, Principal } from '../../core/index.ts';

/** The Hono environment every Archipel router shares: what middleware puts on the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    /** Set by the authentication middleware on every `/api/v1` route but the public ones. */
    principal: Principal;
  };
}
