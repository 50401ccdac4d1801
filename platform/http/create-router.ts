import { OpenAPIHono } from '@hono/zod-openapi';
import { InvalidInputError, type InputIssue } from '../../core/index.ts';
import type { AppEnv } from './app-env.ts';

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

/** Turns schema-validation issues into the taxonomy's issue list, naming each field. */
export function toInputIssues(issues: readonly ZodLikeIssue[], where?: string): InputIssue[] {
  return issues.map((issue) => {
    const base = issue.path.map(String).join('.');
    const path = [where, base].filter(Boolean).join(':') || '(root)';
    if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
      return { path, message: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

/**
 * A router for one component's routes. Requests are validated by the route's schemas before the handler
 * runs; a failure becomes an `InvalidInputError` naming every bad field (so the app's single error
 * handler answers 400), and the same schemas feed the OpenAPI document.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const target = (result as { target?: string }).target;
        const issues = toInputIssues(result.error.issues as ZodLikeIssue[], target);
        throw new InvalidInputError(
          `invalid request ${target ?? 'input'}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
      return undefined;
    },
  });
}
