import type { Context } from 'hono';
import type { AppEnv } from '../../platform/http/index.ts';
import type { RunCaller } from '../runs/file-service.ts';

/** The caller of a runs or files route: the authenticated user and the projects they are a member of. */
export function runCallerOf(memberProjectNames: (userId: string) => Promise<string[]>) {
  return async (c: Context<AppEnv>): Promise<RunCaller> => {
    const principal = c.get('principal');
    return { principal, projects: await memberProjectNames(principal.userId) };
  };
}

/** The request's abort signal, for the service calls a route makes. */
export const requestSignal = (c: Context<AppEnv>) => ({ signal: c.req.raw.signal });
