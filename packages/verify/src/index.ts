// @tessera/verify: access-token verification for APIs. The Express exports keep express-oauth2-jwt-bearer's
// names, options, errors and `req.auth`, so migrating is one import line; `createVerifier` serves any other
// server (node:http, Hono, …); the Fastify plugin is at '@tessera/verify/fastify'.
export { auth, claimCheck, claimEquals, claimIncludes, permissionsIncludeAny, requiredOrganization, requiredPermissions, requiredScopes, scopeIncludesAny } from './express';
export type { GetCertificate, Handler } from './express';
export { InsufficientScopeError, InvalidProofError, InvalidRequestError, InvalidTokenError, UnauthorizedError, UseDpopNonceError } from './errors';
export { InsufficientPermissionsError } from './checks';
export * as checks from './checks';
export { createVerifier, type Verifier } from './verifier';
export type { RequestLike } from './request';
export { MemoryReplayStore, createNonceSource, jwkThumbprint } from './dpop';
export { certificateThumbprint } from './mtls';
export type {
  AuthOptions, AuthResult, ClientCertificate, DecryptionKeyInput, DPoPOptions, FunctionValidator, JWTHeader, JWTPayload,
  JwtVerifierOptions, MtlsOptions, NonceSource, PublicKeyInput, ReplayStore, Validator, Validators,
} from './options';
