/**
 * The closed set of errors domain code may throw. Two families, rendered by exactly two renderers
 * in the server: OAuth errors ({error, error_description}) and Management API errors
 * ({statusCode, error, message, errorCode}). Each carries a public message and an optional private cause.
 */

export abstract class TesseraError extends Error {
  abstract readonly status: number;
  readonly privateCause?: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.privateCause = cause;
    this.name = new.target.name;
  }
}

// ---------- OAuth (Authentication API) ----------

export class OAuthError extends TesseraError {
  readonly status: number;
  readonly code: string;
  readonly errorUri?: string;
  readonly headers: Record<string, string>;
  /** Further members of the error body (Auth0's `mfa_token` with `mfa_required`). */
  readonly extra: Record<string, string>;
  constructor(code: string, status: number, description: string, opts: { cause?: unknown; errorUri?: string; headers?: Record<string, string>; extra?: Record<string, string> } = {}) {
    super(description, opts.cause);
    this.code = code;
    this.status = status;
    this.errorUri = opts.errorUri;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, cause?: unknown) { super('invalid_request', 400, description, { cause }); }
}
/** Auth0 answers a failed client authentication with 401 access_denied "Unauthorized". */
export class InvalidClient extends OAuthError {
  constructor(cause?: unknown) { super('access_denied', 401, 'Unauthorized', { cause }); }
}
export class InvalidGrant extends OAuthError {
  constructor(description: string, cause?: unknown) { super('invalid_grant', 403, description, { cause }); }
}
export class UnauthorizedClient extends OAuthError {
  constructor(description: string, cause?: unknown) {
    super('unauthorized_client', 403, description, { cause, errorUri: 'https://auth0.com/docs/clients/client-grant-types' });
  }
}
export class UnsupportedGrantType extends OAuthError {
  constructor(grantType: string) { super('unsupported_grant_type', 400, `Unsupported grant type: ${grantType}`); }
}
export class InvalidScope extends OAuthError {
  constructor(description: string) { super('invalid_scope', 400, description); }
}
export class AccessDenied extends OAuthError {
  constructor(description: string, status = 403, cause?: unknown) { super('access_denied', status, description, { cause }); }
}
/** RFC 9449 §5: a DPoP proof that fails a check (the description names the check). */
export class InvalidDpopProof extends OAuthError {
  constructor(description: string, cause?: unknown) { super('invalid_dpop_proof', 400, description, { cause }); }
}
/** RFC 9449 §8: the proof lacks a current server nonce; the fresh one travels in the DPoP-Nonce header. */
export class UseDpopNonce extends OAuthError {
  constructor(nonce: string, cause?: unknown) {
    super('use_dpop_nonce', 400, 'Authorization server requires nonce in DPoP proof', { cause, headers: { 'dpop-nonce': nonce } });
  }
}
/** Auth0: a user enrolled in a second factor needs it; the client continues with the mfa_token (MFA API). */
export class MfaRequired extends OAuthError {
  constructor(mfaToken: string) { super('mfa_required', 403, 'Multifactor authentication required', { extra: { mfa_token: mfaToken } }); }
}
/**
 * 429 too_many_attempts: too many wrong second-factor codes (the default description), or Auth0's brute-force
 * answers (a user blocked from an address, an address throttled across users). Retry-After when it will end by itself.
 */
export class TooManyAttempts extends OAuthError {
  constructor(retryAfterSeconds?: number, description = 'Too many failed attempts. Try again later.') {
    super('too_many_attempts', 429, description, retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}
/** A rate limit or a failure throttle on the Authentication API (429 with Retry-After). */
export class TooManyRequestsOAuth extends OAuthError {
  constructor(description: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super('too_many_requests', 429, description, { headers: { ...headers, 'retry-after': String(retryAfterSeconds) } });
  }
}
/** RFC 9396 §5: `authorization_details` that is malformed or asks for a type the API or the client grant does not allow. */
export class InvalidAuthorizationDetails extends OAuthError {
  constructor(description: string, cause?: unknown) { super('invalid_authorization_details', 400, description, { cause }); }
}
/**
 * RFC 6749 §4.1.2.1 `temporarily_unavailable` (503): the server sheds work it cannot take now (the password hashing
 * queue is full). Retry-After says when to try again; the auth0 SDKs retry only 429, so this is not multiplied.
 */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string, retryAfterSeconds = 1, cause?: unknown) {
    super('temporarily_unavailable', 503, description, { cause, headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}
export class ServerError extends OAuthError {
  constructor(cause?: unknown) { super('server_error', 500, 'Internal error', { cause }); }
}

// ---------- Management API ----------

export class ApiError extends TesseraError {
  readonly status: number;
  readonly errorCode?: string;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, errorCode?: string, opts: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, opts.cause);
    this.status = status;
    this.errorCode = errorCode;
    this.headers = opts.headers ?? {};
  }
}

export class BadRequest extends ApiError {
  constructor(message: string, errorCode = 'invalid_body', cause?: unknown) { super(400, message, errorCode, { cause }); }
}
export class Unauthorized extends ApiError {
  constructor(message: string, errorCode?: string, cause?: unknown) {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all
    const challenge = errorCode === 'missing_authentication' ? 'Bearer' : `Bearer error="invalid_token", error_description="${message.replace(/"/g, "'")}"`;
    super(401, message, errorCode, { cause, headers: { 'www-authenticate': challenge } });
  }
}
export class InsufficientScope extends ApiError {
  constructor(message: string) { super(403, message, 'insufficient_scope'); }
}
export class Forbidden extends ApiError {
  constructor(message: string, errorCode = 'operation_not_supported') { super(403, message, errorCode); }
}
export class NotFound extends ApiError {
  constructor(message: string, errorCode: string) { super(404, message, errorCode); }
}
export class Conflict extends ApiError {
  constructor(message: string, errorCode = 'conflict', cause?: unknown) { super(409, message, errorCode, { cause }); }
}
export class PayloadTooLarge extends ApiError {
  constructor(message = 'Request entity too large') { super(413, message, 'payload_too_large'); }
}
export class UnsupportedMediaType extends ApiError {
  constructor(message: string) { super(415, message, 'unsupported_media_type'); }
}
export class TooManyRequests extends ApiError {
  constructor(retryAfterSeconds: number) {
    super(429, 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.', 'too_many_requests', { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

/** Raised by repositories when a unique constraint is violated; services translate it into a Conflict. */
export class UniqueViolation extends Error {
  constructor(readonly constraint: string, cause?: unknown) { super(`unique violation: ${constraint}`); this.cause = cause; }
}
/** Raised by repositories when a referenced row does not exist (foreign key). */
export class ReferenceMissing extends Error {
  constructor(readonly reference: string, cause?: unknown) { super(`missing reference: ${reference}`); this.cause = cause; }
}
