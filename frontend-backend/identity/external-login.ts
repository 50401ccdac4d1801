import { createHash, randomBytes } from 'node:crypto';
import { NotAuthenticatedError, silentLogger, systemClock, type Clock, type Logger, type User } from '../../core/index.ts';
import type { ExternalIdentity, IdentityService, IssuedToken } from './identity-service.ts';
import { createPendingLogins, type PendingLogin, type PendingLoginsOptions } from './pending-logins.ts';

/** What one sign-in sends to the provider and checks in its answer. */
export interface AuthorizationChecks {
  state: string;
  nonce: string;
  /** The PKCE verifier; the provider is sent its S256 challenge. */
  codeVerifier: string;
}

/** The user the provider vouched for: verified ID token claims, with the UserInfo claims merged in. */
export interface ProviderIdentity {
  issuer: string;
  subject: string;
  claims: Readonly<Record<string, unknown>>;
}

/**
 * An external OpenID Connect provider, as sign-in needs it (`createOidcClient` is the adapter). Answers
 * `NotAuthenticatedError` when the provider refuses the code or its answer fails a check, and
 * `UnavailableError` when it cannot be reached.
 */
export interface SignOnProvider {
  /** The provider's authorization endpoint, with an authorization-code request carrying these checks. */
  authorizationUrl(checks: AuthorizationChecks, options?: { signal?: AbortSignal }): Promise<URL>;
  /** Exchanges the code in the callback's parameters, checking state, nonce and PKCE. */
  exchange(callback: URLSearchParams, checks: AuthorizationChecks, options?: { signal?: AbortSignal }): Promise<ProviderIdentity>;
}

export interface ExternalLoginOptions {
  provider: SignOnProvider;
  identity: Pick<IdentityService, 'loginExternal'>;
  /** The claim holding the user name wanted for a new user (default `preferred_username`). */
  usernameClaim?: string;
  /**
   * The claim holding the names of the user's projects (a list, or one string of names separated by spaces
   * or commas). Unset: sign-in leaves project memberships alone.
   */
  projectsClaim?: string;
  pending?: Omit<PendingLoginsOptions, 'clock'>;
  clock?: Clock;
  logger?: Logger;
}

/** Sign-in through an external provider: authorization code with PKCE. */
export interface ExternalLogin {
  /**
   * Starts a sign-in that will come back to `returnPath` (a path on this node): the provider URL to send the
   * browser to. The verifier, nonce and return path stay on the node, keyed by the request's `state`.
   */
  start(returnPath: string, options?: { signal?: AbortSignal }): Promise<URL>;
  /**
   * Finishes the sign-in the callback's parameters belong to (once per `state`), and signs the user in.
   * Throws `NotAuthenticatedError` when the provider answered with an error, the state is unknown, expired
   * or used, or the code does not check out.
   */
  finish(callback: URLSearchParams, options?: { signal?: AbortSignal }): Promise<{ user: User; token: IssuedToken; returnPath: string }>;
}

const random = () => randomBytes(32).toString('base64url');
const MAX_NAME_LENGTH = 63;

/**
 * A valid user name made from a claim value (lower case, accents dropped, other characters turned into
 * `-`, at most 63 characters), or undefined when nothing usable is left.
 */
export function userNameFrom(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_NAME_LENGTH)
    .replace(/[._-]+$/, '');
  return name || undefined;
}

/** The project names a claim value holds: a list of strings, or one string separated by spaces or commas. */
export function projectNamesFrom(value: unknown): string[] {
  const items = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return [...new Set(items.map((item) => item.trim()).filter(Boolean))];
}

/** How a provider's identity becomes this cluster's: the user name wanted, display name and projects. */
export function externalIdentityFrom(
  provided: ProviderIdentity,
  claims: { usernameClaim: string; projectsClaim?: string | undefined },
): ExternalIdentity {
  const preferredName =
    userNameFrom(provided.claims[claims.usernameClaim]) ??
    userNameFrom(provided.subject) ??
    `user-${createHash('sha256').update(provided.subject).digest('hex').slice(0, 12)}`;
  const displayName = provided.claims.name;
  return {
    issuer: provided.issuer,
    subject: provided.subject,
    preferredName,
    ...(typeof displayName === 'string' && displayName.trim() ? { displayName: displayName.trim().slice(0, 200) } : {}),
    projects: claims.projectsClaim === undefined ? null : projectNamesFrom(provided.claims[claims.projectsClaim]),
  };
}

/** Provider error codes are RFC 6749 tokens; anything else is not repeated to the user. */
const ERROR_CODE = /^[a-z_]{1,64}$/;

export function createExternalLogin(options: ExternalLoginOptions): ExternalLogin {
  const { provider, identity } = options;
  const logger = options.logger ?? silentLogger;
  const usernameClaim = options.usernameClaim ?? 'preferred_username';
  const pending = createPendingLogins({ ...options.pending, clock: options.clock ?? systemClock });

  return {
    async start(returnPath, { signal } = {}) {
      const checks: AuthorizationChecks = { state: random(), nonce: random(), codeVerifier: random() };
      const url = await provider.authorizationUrl(checks, { signal });
      const login: PendingLogin = { codeVerifier: checks.codeVerifier, nonce: checks.nonce, returnPath };
      pending.add(checks.state, login);
      return url;
    },

    async finish(callback, { signal } = {}) {
      const state = callback.get('state');
      const login = state ? pending.take(state) : undefined;
      const error = callback.get('error');
      if (error) {
        logger.info('the sign-on provider refused a sign-in', { error, description: callback.get('error_description') ?? undefined });
        throw new NotAuthenticatedError(`the sign-on provider refused the sign-in${ERROR_CODE.test(error) ? ` (${error})` : ''}`);
      }
      if (!state || !login) throw new NotAuthenticatedError('this sign-in expired or was already used: please sign in again');
      const provided = await provider.exchange(callback, { state, nonce: login.nonce, codeVerifier: login.codeVerifier }, { signal });
      const external = externalIdentityFrom(provided, { usernameClaim, projectsClaim: options.projectsClaim });
      const { user, token } = await identity.loginExternal(external, { signal });
      return { user, token, returnPath: login.returnPath };
    },
  };
}
