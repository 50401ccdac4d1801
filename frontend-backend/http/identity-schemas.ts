import { z } from '@hono/zod-openapi';

/**
 * Names of users and projects: lower-case letters, digits, `.`, `_` and `-`, starting and ending with a
 * letter or digit, at most 63 characters, so they can also name Kubernetes namespaces and URL segments.
 */
export const NameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/, {
    message: 'must be 1-63 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
  })
  .openapi({ example: 'genomics' });

const Password = z.string().min(8, { message: 'must be at least 8 characters' }).max(1024);
const Timestamp = z.string().datetime().openapi({ example: '2026-11-22T10:00:00.000Z' });

export const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    displayName: z.string().nullable(),
    isAdmin: z.boolean(),
    createdAt: Timestamp,
  })
  .openapi('User');

export const CallerSchema = UserSchema.extend({
  tokenId: z.string().openapi({ description: 'The token the request was made with' }),
}).openapi('Caller');

export const NewUserSchema = z
  .strictObject({
    name: NameSchema,
    password: Password.optional(),
    displayName: z.string().min(1).max(200).optional(),
    isAdmin: z.boolean().optional(),
  })
  .openapi('NewUser');

export const UserChangeSchema = z
  .strictObject({ password: Password.optional(), displayName: z.string().min(1).max(200).nullable().optional() })
  .openapi('UserChange');

export const ProjectSchema = z
  .object({ id: z.string(), name: z.string(), description: z.string(), createdAt: Timestamp })
  .openapi('Project');

export const NewProjectSchema = z
  .strictObject({ name: NameSchema, description: z.string().max(2000).optional() })
  .openapi('NewProject');

export const RoleSchema = z.enum(['member', 'admin']);

export const MemberSchema = z
  .object({ user: z.string(), userId: z.string(), role: RoleSchema, addedAt: Timestamp })
  .openapi('ProjectMember');

export const NewMemberSchema = z
  .strictObject({ user: NameSchema, role: RoleSchema.default('member') })
  .openapi('NewProjectMember');

export const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the secret, to tell tokens apart' }),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
  })
  .openapi('ApiToken');

export const IssuedTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: 'The secret: shown only once, send it as "Authorization: Bearer <token>"' }),
}).openapi('IssuedApiToken');

export const NewTokenSchema = z
  .strictObject({
    name: z.string().min(1).max(100),
    expiresInSeconds: z.number().int().min(60).max(5 * 365 * 24 * 3600).optional(),
  })
  .openapi('NewApiToken');

export const LoginSchema = z
  .strictObject({ user: z.string().min(1).max(63), password: z.string().min(1).max(1024) })
  .openapi('Login');

export const SignOnProvidersSchema = z
  .object({
    password: z.literal(true).openapi({ description: 'Password login (`POST /api/v1/auth/login`) is always offered' }),
    oidc: z
      .object({
        name: z.string().openapi({ description: 'The label of the sign-on button', example: 'Single sign-on' }),
        start: z.string().openapi({ description: 'Where to send the browser to sign in', example: '/api/v1/auth/oidc/start' }),
      })
      .nullable()
      .openapi({ description: 'Single sign-on through an OpenID Connect provider; null when not configured' }),
  })
  .openapi('SignOnProviders');

/** A path on this node to go back to: one leading `/` (not `//` or `/\`, which browsers read as another host). */
export const ReturnPathSchema = z
  .string()
  .max(2048)
  .regex(/^\/(?![/\\])[^\\\s\p{Cc}]*$/u, { message: 'must be a path on this site, starting with a single "/"' })
  .openapi({ example: '/runs' });
