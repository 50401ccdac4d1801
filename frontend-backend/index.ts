export {
  createIdentityService,
  BOOTSTRAP_ADMIN_NAME,
  type IdentityService,
  type IdentityServiceOptions,
  type IssuedToken,
} from './identity/identity-service.ts';
export { createIdentityRoutes, LOGIN_PATH } from './http/identity-routes.ts';
