/**
 * The error classes and statuses of express-oauth2-jwt-bearer 1.10 (same names, codes, statuses and
 * `WWW-Authenticate` values), plus the DPoP ones (RFC 9449 §7.1, §8, §9). Each carries `status`,
 * `statusCode`, `code` and `headers`, so an Express or Fastify error handler renders them unchanged.
 */
export const quote = (s: string): string => s.replace(/"/g, "'");

export const bearerChallenge = (error: string, description: string, scopes?: string[]): string =>
  `Bearer realm="api", error="${error}", error_description="${quote(description)}"${scopes ? `, scope="${scopes.join(' ')}"` : ''}`;

export class UnauthorizedError extends Error {
  status = 401;
  statusCode = 401;
  code?: string;
  headers: Record<string, string> = { 'WWW-Authenticate': 'Bearer realm="api"' };
  constructor(message = 'Unauthorized') {
    super(message);
    this.name = this.constructor.name;
  }
}

/** 400 invalid_request; `useErrorCode: false` is the bare challenge RFC 6750 §3.1 asks for when the request has no usable credentials. */
export class InvalidRequestError extends UnauthorizedError {
  override code = 'invalid_request';
  override status = 400;
  override statusCode = 400;
  constructor(message = 'Invalid Request', useErrorCode = true) {
    super(message);
    if (useErrorCode) this.headers = { 'WWW-Authenticate': bearerChallenge(this.code, this.message) };
    else this.code = '';
  }
}

export class InvalidTokenError extends UnauthorizedError {
  override code = 'invalid_token';
  constructor(message = 'Invalid Token') {
    super(message);
    this.headers = { 'WWW-Authenticate': bearerChallenge(this.code, this.message) };
  }
}

export class InsufficientScopeError extends UnauthorizedError {
  override code = 'insufficient_scope';
  override status = 403;
  override statusCode = 403;
  constructor(scopes?: string[], message = 'Insufficient Scope') {
    super(message);
    this.headers = { 'WWW-Authenticate': bearerChallenge(this.code, this.message, scopes) };
  }
}

/** RFC 9449 §7.1: a DPoP proof that fails a check (400 in express-oauth2-jwt-bearer; the challenge says why). */
export class InvalidProofError extends UnauthorizedError {
  override code = 'invalid_dpop_proof';
  override status = 400;
  override statusCode = 400;
  constructor(message = 'Invalid DPoP Proof') {
    super(message);
    this.headers = { 'WWW-Authenticate': bearerChallenge(this.code, this.message) };
  }
}

/** RFC 9449 §9: the resource server wants a proof carrying its nonce; answered 401 with a `DPoP-Nonce` header. */
export class UseDpopNonceError extends UnauthorizedError {
  override code = 'use_dpop_nonce';
  constructor(readonly nonce: string, message = 'Resource server requires nonce in DPoP proof') {
    super(message);
    this.headers = { 'WWW-Authenticate': bearerChallenge(this.code, this.message), 'DPoP-Nonce': nonce };
  }
}
