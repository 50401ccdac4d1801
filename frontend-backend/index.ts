export {
  createIdentityService,
  BOOTSTRAP_ADMIN_NAME,
  type IdentityService,
  type IdentityServiceOptions,
  type IssuedToken,
  type LoginOrigin,
} from './identity/identity-service.ts';
export { LOGIN_THROTTLE_DEFAULTS, type LoginThrottlePolicy, type RateLimit } from './identity/login-throttle.ts';
export { PASSWORD_HASHING_DEFAULTS, type BoundedPasswordHasherOptions } from './identity/bounded-password-hasher.ts';
export type { PasswordHasher } from './identity/password-hash.ts';
export { createIdentityRoutes, LOGIN_PATH } from './http/identity-routes.ts';
export { createPortalRoutes, PORTAL_BUILD_DIR } from './http/portal-routes.ts';
export { type ExternalIdentity, type ExternalLoginResult } from './identity/identity-service.ts';
export { createExternalLogin, type ExternalLogin, type ExternalLoginOptions, type SignOnProvider } from './identity/external-login.ts';
export { PENDING_LOGIN_DEFAULTS } from './identity/pending-logins.ts';
export { createOidcClient, type OidcClientOptions } from './identity/oidc-client.ts';
export { createSignOnRoutes, OIDC_CALLBACK_PATH, SIGN_ON_PATHS, type SignOnRoutesOptions } from './http/sign-on-routes.ts';
