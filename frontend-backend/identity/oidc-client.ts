import * as oidc from 'openid-client';
import { NotAuthenticatedError, UnavailableError } from '../../core/index.ts';
import type { AuthorizationChecks, ProviderIdentity, SignOnProvider } from './external-login.ts';

export interface OidcClientOptions {
  /** The provider's issuer URL; its metadata is read from `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back (the node's callback route); read at each sign-in. */
  redirectUri: () => string;
  scopes: readonly string[];
  /** Allows plain-http providers (on loopback, for tests and development). */
  allowInsecureRequests?: boolean;
  /** Seconds each request to the provider may take (default 10). */
  timeoutSeconds?: number;
}

/** A failure of the provider or the way to it, rather than of this sign-in. */
function unavailable(what: string, error: unknown): UnavailableError {
  return new UnavailableError(`the sign-on provider could not be reached (${what}): ${(error as Error).message}`, { cause: error });
}

/** Sorts openid-client's failures into this project's errors, keeping the original as `cause`. */
function translate(what: string, error: unknown): Error {
  if (error instanceof oidc.ResponseBodyError) {
    return error.status >= 500 ? unavailable(what, error) : new NotAuthenticatedError(`the sign-on provider refused the sign-in (${error.error})`, { cause: error });
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return new NotAuthenticatedError(`the sign-on provider refused the sign-in (${error.error})`, { cause: error });
  }
  if (error instanceof oidc.ClientError) {
    if (error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') return unavailable(what, error);
    return new NotAuthenticatedError(`the sign-on provider's answer did not check out: ${error.message}`, { cause: error });
  }
  // fetch fails with a TypeError, a timeout with a DOMException; wrong arguments are TypeErrors with a code.
  if ((error instanceof TypeError && !('code' in error)) || (error instanceof DOMException && ['TimeoutError', 'AbortError'].includes(error.name))) {
    return unavailable(what, error);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The external provider through openid-client: its metadata is discovered at the first sign-in (and again
 * after a failure), requests carry PKCE (S256), `state` and `nonce`, and the answer's ID token is
 * verified; the UserInfo claims, when the provider has that endpoint, are merged under the ID token's.
 */
export function createOidcClient(options: OidcClientOptions): SignOnProvider {
  let configuration: Promise<oidc.Configuration> | undefined;
  const configured = () =>
    (configuration ??= oidc
      .discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretPost(options.clientSecret), {
        timeout: options.timeoutSeconds ?? 10,
        ...(options.allowInsecureRequests ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw unavailable('discovery', error);
      }));

  return {
    async authorizationUrl(checks: AuthorizationChecks, { signal } = {}) {
      const config = await configured();
      signal?.throwIfAborted();
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri(),
        response_type: 'code',
        scope: options.scopes.join(' '),
        state: checks.state,
        nonce: checks.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
      });
    },

    async exchange(callback: URLSearchParams, checks: AuthorizationChecks, { signal } = {}): Promise<ProviderIdentity> {
      const config = await configured();
      // The callback as the provider addressed it: openid-client sends its origin and path as redirect_uri.
      const current = new URL(options.redirectUri());
      current.search = callback.toString();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        signal?.throwIfAborted();
        tokens = await oidc.authorizationCodeGrant(config, current, {
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          pkceCodeVerifier: checks.codeVerifier,
          idTokenExpected: true,
        });
      } catch (error) {
        throw translate('token', error);
      }
      const idToken = tokens.claims();
      if (!idToken) throw new NotAuthenticatedError('the sign-on provider sent no ID token');
      let userInfo: Record<string, unknown> = {};
      if (config.serverMetadata().userinfo_endpoint) {
        try {
          signal?.throwIfAborted();
          userInfo = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
        } catch (error) {
          throw translate('userinfo', error);
        }
      }
      return { issuer: idToken.iss, subject: idToken.sub, claims: { ...userInfo, ...idToken } };
    },
  };
}
