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
