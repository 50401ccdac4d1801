import { createRoute, z } from '@hono/zod-openapi';
import type { ApiToken, Project, ProjectMember, User } from '../../core/index.ts';
import { clientAddress, createRouter, errorResponses, jsonBody, jsonResponse } from '../../platform/http/index.ts';
import type { IdentityService, IssuedToken } from '../identity/identity-service.ts';
import {
  CallerSchema,
  IssuedTokenSchema,
  LoginSchema,
  MemberSchema,
  NameSchema,
  NewMemberSchema,
  NewProjectSchema,
  NewTokenSchema,
  NewUserSchema,
  ProjectSchema,
  TokenSchema,
  UserChangeSchema,
  UserSchema,
} from './identity-schemas.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const userJson = (u: User) => ({ id: u.id, name: u.name, displayName: u.displayName, isAdmin: u.isAdmin, createdAt: u.createdAt.toISOString() });
const projectJson = (p: Project) => ({ id: p.id, name: p.name, description: p.description, createdAt: p.createdAt.toISOString() });
const memberJson = (m: ProjectMember) => ({ user: m.userName, userId: m.userId, role: m.role, addedAt: m.addedAt.toISOString() });
const tokenJson = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  createdAt: t.createdAt.toISOString(),
  expiresAt: iso(t.expiresAt),
  lastUsedAt: iso(t.lastUsedAt),
});
const issuedJson = (t: IssuedToken) => ({ ...tokenJson(t), token: t.token });

const ProjectParam = z.object({ project: NameSchema.openapi({ param: { name: 'project', in: 'path' } }) });
const secured = [{ bearer: [] }];

/** `POST /auth/login`: public, so the app must list it among the public paths. */
export const LOGIN_PATH = '/auth/login';

/** Users, projects, members, tokens and login, mounted under `/api/v1`. */
export function createIdentityRoutes(identity: IdentityService) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: LOGIN_PATH,
      tags: ['auth'],
      summary: 'Exchange a user name and password for an API token',
      description:
        'Attempts are limited per client address and per user name: over a limit, or while the node checks too many passwords at once, the answer is 429 with `Retry-After`, before any password is checked.',
      security: [],
      request: { body: jsonBody(LoginSchema) },
      responses: { 201: jsonResponse(IssuedTokenSchema, 'A new token'), ...errorResponses(400, 401, 429) },
    }),
    async (c) => {
      const { user, password } = c.req.valid('json');
      const token = await identity.login(user, password, { clientAddress: clientAddress(c), signal: c.req.raw.signal });
      return c.json(issuedJson(token), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/auth/me',
      tags: ['auth'],
      summary: 'Who the caller is: the user the token belongs to, and whether they administer this cluster',
      security: secured,
      responses: { 200: jsonResponse(CallerSchema, 'The caller'), ...errorResponses(401) },
    }),
    async (c) => {
      const principal = c.get('principal');
      return c.json({ ...userJson(await identity.currentUser(principal)), tokenId: principal.tokenId }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      tags: ['users'],
      summary: 'Create a user (cluster admins only)',
      security: secured,
      request: { body: jsonBody(NewUserSchema) },
      responses: { 201: jsonResponse(UserSchema, 'The new user'), ...errorResponses(400, 401, 403, 409, 413, 429) },
    }),
    async (c) => c.json(userJson(await identity.createUser(c.get('principal'), c.req.valid('json'))), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      tags: ['users'],
      summary: 'List users (cluster admins only)',
      security: secured,
      responses: { 200: jsonResponse(z.object({ items: z.array(UserSchema) }), 'All users'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ items: (await identity.listUsers(c.get('principal'))).map(userJson) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/users/{user}',
      tags: ['users'],
      summary: "Change a user's password or display name (the user themself, or a cluster admin)",
      security: secured,
      request: {
        params: z.object({ user: NameSchema.openapi({ param: { name: 'user', in: 'path' } }) }),
        body: jsonBody(UserChangeSchema),
      },
      responses: { 200: jsonResponse(UserSchema, 'The changed user'), ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => c.json(userJson(await identity.updateUser(c.get('principal'), c.req.valid('param').user, c.req.valid('json'))), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/projects',
      tags: ['projects'],
      summary: 'Create a project; its creator becomes its admin',
      security: secured,
      request: { body: jsonBody(NewProjectSchema) },
      responses: { 201: jsonResponse(ProjectSchema, 'The new project'), ...errorResponses(400, 401, 409, 413) },
    }),
    async (c) => c.json(projectJson(await identity.createProject(c.get('principal'), c.req.valid('json'))), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/projects',
      tags: ['projects'],
      summary: "The caller's projects (all projects for cluster admins)",
      security: secured,
      responses: { 200: jsonResponse(z.object({ items: z.array(ProjectSchema) }), 'Projects'), ...errorResponses(401) },
    }),
    async (c) => c.json({ items: (await identity.listProjects(c.get('principal'))).map(projectJson) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}/members',
      tags: ['projects'],
      summary: "A project's members (visible to its members and cluster admins)",
      security: secured,
      request: { params: ProjectParam },
      responses: { 200: jsonResponse(z.object({ items: z.array(MemberSchema) }), 'Members'), ...errorResponses(400, 401, 404) },
    }),
    async (c) =>
      c.json({ items: (await identity.listMembers(c.get('principal'), c.req.valid('param').project)).map(memberJson) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project}/members',
      tags: ['projects'],
      summary: 'Add a user to a project (project admins and cluster admins)',
      security: secured,
      request: { params: ProjectParam, body: jsonBody(NewMemberSchema) },
      responses: { 201: jsonResponse(MemberSchema, 'The new member'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) =>
      c.json(memberJson(await identity.addMember(c.get('principal'), c.req.valid('param').project, c.req.valid('json'))), 201),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project}/members/{user}',
      tags: ['projects'],
      summary: 'Remove a user from a project (project admins and cluster admins; not the last admin)',
      security: secured,
      request: { params: ProjectParam.extend({ user: NameSchema.openapi({ param: { name: 'user', in: 'path' } }) }) },
      responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { project, user } = c.req.valid('param');
      await identity.removeMember(c.get('principal'), project, user);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/tokens',
      tags: ['tokens'],
      summary: 'Create an API token for the caller; the secret is shown only in this answer',
      security: secured,
      request: { body: jsonBody(NewTokenSchema) },
      responses: { 201: jsonResponse(IssuedTokenSchema, 'The new token'), ...errorResponses(400, 401) },
    }),
    async (c) => c.json(issuedJson(await identity.createToken(c.get('principal'), c.req.valid('json'))), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/tokens',
      tags: ['tokens'],
      summary: "The caller's tokens (never their secrets)",
      security: secured,
      responses: { 200: jsonResponse(z.object({ items: z.array(TokenSchema) }), 'Tokens'), ...errorResponses(401) },
    }),
    async (c) => c.json({ items: (await identity.listTokens(c.get('principal'))).map(tokenJson) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/tokens/{id}',
      tags: ['tokens'],
      summary: 'Revoke one of the caller’s tokens',
      security: secured,
      request: { params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 204: { description: 'Revoked' }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      await identity.deleteToken(c.get('principal'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
