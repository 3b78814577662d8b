import { OAuthError, TesseraError, UnauthorizedClient } from '../errors';
import type { Client } from '../model';
import { splitScope } from '../services/user-tokens';
import { hasDangerousScheme } from './url-schemes';
import { parseAuthorizationDetails, type AuthorizationDetail } from './authorization-details';

export type ResponseMode = 'query' | 'fragment' | 'form_post' | 'web_message';
const MODES: readonly string[] = ['query', 'fragment', 'form_post', 'web_message'];

/** A validated /authorize request (OAuth 2.0 §4.1.1/§4.2.1, OIDC Core §3), carried through login and consent. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  responseType: string[];
  responseMode: ResponseMode;
  state?: string;
  nonce?: string;
  scopes?: string[];
  audience?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  /** RFC 9449 §10: the thumbprint of the DPoP key the code is bound to. */
  dpopJkt?: string;
  organization?: string;
  prompt: string[];
  maxAge?: number;
  loginHint?: string;
  /** OIDC Core §3.1.2.1 `acr_values`: the multi-factor policy URI asks for a second factor (enrollment first). */
  acrValues?: string[];
  /** RFC 9396: what the client asks the user to authorize, checked against the API's types and the client grant. */
  authorizationDetails?: AuthorizationDetail[];
}

/** The PAPE multi-factor policy, as Auth0 accepts it in `acr_values` to ask for a second factor. */
export const ACR_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/**
 * An /authorize error that cannot be sent back to the client (unknown client, unregistered redirect_uri):
 * rendered as an error page, never as a redirect (RFC 6749 §4.1.2.1).
 */
export class AuthorizePageError extends TesseraError {
  readonly status = 400;
  constructor(readonly code: string, description: string) { super(description); }
}

/** An /authorize error returned to the client's redirect_uri. */
export const redirectError = (code: string, description: string) => new OAuthError(code, 400, description);

const RESPONSE_TYPES = new Set(['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token']);
const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
/** An RFC 7638 SHA-256 JWK thumbprint, base64url without padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
/** Client metadata flag that lets a client use the PKCE `plain` method (S256 only otherwise). */
export const PKCE_PLAIN_METADATA = 'tessera_allow_pkce_plain';

/** Step 1: the client and its redirect_uri; failures here are rendered, not redirected. */
export function checkClientAndRedirect(p: Record<string, string | undefined>, client: Client | undefined): { redirectUri: string; given: boolean } {
  if (!p.client_id) throw new AuthorizePageError('invalid_request', 'Missing required parameter: client_id');
  if (!client) throw new AuthorizePageError('invalid_request', `Unknown client: ${p.client_id}`);
  const callbacks = client.callbacks ?? [];
  if (p.redirect_uri === undefined) {
    if (callbacks.length === 0) throw new AuthorizePageError('invalid_request', 'Missing required parameter: redirect_uri');
    const first = usableRedirect(callbacks[0]);
    if (p.response_mode === 'web_message') checkWebMessageOrigin(client, first);
    return { redirectUri: first, given: false };
  }
  if (!callbacks.includes(p.redirect_uri)) {
    throw new AuthorizePageError('invalid_request', `Callback URL mismatch. ${p.redirect_uri} is not in the list of allowed callback URLs`);
  }
  const redirectUri = usableRedirect(p.redirect_uri);
  if (p.response_mode === 'web_message') checkWebMessageOrigin(client, redirectUri);
  return { redirectUri, given: true };
}

/** The origin (scheme://host[:port]) of a URL, as browsers report it in MessageEvent.origin. */
export function originOf(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch { return undefined; }
}

/** Whether `origin` is one of the client's web_origins (compared as origins: case and default ports normalised). */
export function isWebOrigin(client: Client, origin: string): boolean {
  return (client.web_origins ?? []).some((o) => originOf(o) === origin);
}

/**
 * web_message posts the response (a code, tokens) to the window at the redirect_uri's origin: only to an origin the
 * client registered in web_origins. Anything else is rendered, never posted (the page cannot reach that origin).
 */
function checkWebMessageOrigin(client: Client, redirectUri: string): void {
  const origin = originOf(redirectUri);
  if (!origin || !isWebOrigin(client, origin)) {
    throw new AuthorizePageError('invalid_request', `The origin ${origin ?? redirectUri} is not in the list of allowed web origins (web_origins) of the client; response_mode=web_message cannot be used.`);
  }
}

/**
 * A registered callback is still checked before the browser is sent there: callbacks stored before script
 * schemes were refused at registration, or that are not absolute URLs, are rendered as an error page.
 */
function usableRedirect(uri: string): string {
  if (hasDangerousScheme(uri)) throw new AuthorizePageError('invalid_request', 'The callback URL uses a scheme that is not allowed (javascript:, data:, vbscript:).');
  if (!URL.canParse(uri)) throw new AuthorizePageError('invalid_request', 'The callback URL is not an absolute URL.');
  return uri;
}

/** The response mode to use for an error when the request's own mode is unusable. */
export function fallbackMode(p: Record<string, string | undefined>): ResponseMode {
  // web_message reaches here only when step 1 accepted the redirect_uri's origin
  if (p.response_mode !== undefined && MODES.includes(p.response_mode)) return p.response_mode as ResponseMode;
  return (p.response_type ?? 'code').split(' ').some((t) => t === 'token' || t === 'id_token') ? 'fragment' : 'query';
}

/** Step 2: everything else; failures are redirected to the (now trusted) redirect_uri. */
export function parseAuthorizeRequest(p: Record<string, string | undefined>, client: Client, redirect: { redirectUri: string; given: boolean }): AuthorizeRequest {
  if (!p.response_type) throw redirectError('invalid_request', 'Missing required parameter: response_type');
  const types = [...new Set(p.response_type.split(' ').filter(Boolean))];
  const canonical = ['code', 'token', 'id_token'].filter((t) => types.includes(t));
  if (canonical.length !== types.length || !RESPONSE_TYPES.has(canonical.join(' '))) {
    throw redirectError('unsupported_response_type', `Unsupported response type: ${p.response_type}`);
  }
  if (canonical.includes('code') && !client.grant_types.includes('authorization_code')) {
    throw new UnauthorizedClient("Grant type 'authorization_code' not allowed for the client.");
  }
  if (canonical.some((t) => t !== 'code') && !client.grant_types.includes('implicit')) {
    throw new UnauthorizedClient("Grant type 'implicit' not allowed for the client.");
  }
  const implicit = canonical.some((t) => t !== 'code');
  const mode = (p.response_mode ?? (implicit ? 'fragment' : 'query')) as ResponseMode;
  if (!MODES.includes(mode)) throw redirectError('invalid_request', `Unsupported response_mode: ${p.response_mode}`);
  if (mode === 'query' && implicit) throw redirectError('invalid_request', `response_mode query is not allowed with response_type ${p.response_type}`);
  const scopes = splitScope(p.scope);
  if (canonical.includes('id_token')) {
    if (!scopes?.includes('openid')) throw redirectError('invalid_request', 'The id_token response type requires the openid scope');
    if (!p.nonce) throw redirectError('invalid_request', 'Missing required parameter: nonce');
  }
  const prompt = (p.prompt ?? '').split(' ').filter(Boolean);
  if (prompt.some((x) => !PROMPTS.has(x))) throw redirectError('invalid_request', `Unsupported prompt: ${p.prompt}`);
  if (prompt.includes('none') && prompt.length > 1) throw redirectError('invalid_request', 'prompt=none cannot be combined with other values');
  let maxAge: number | undefined;
  if (p.max_age !== undefined) {
    if (!/^\d{1,10}$/.test(p.max_age)) throw redirectError('invalid_request', 'max_age must be a non-negative integer');
    maxAge = Number(p.max_age);
  }
  const req: AuthorizeRequest = {
    clientId: client.client_id, redirectUri: redirect.redirectUri, redirectUriGiven: redirect.given,
    responseType: canonical, responseMode: mode, prompt, scopes,
  };
  for (const [k, v] of [['state', p.state], ['nonce', p.nonce], ['audience', p.audience], ['organization', p.organization], ['loginHint', p.login_hint]] as const) {
    if (v !== undefined && v !== '') req[k] = v;
  }
  if (maxAge !== undefined) req.maxAge = maxAge;
  if (p.acr_values) req.acrValues = p.acr_values.split(' ').filter(Boolean);
  const details = parseAuthorizationDetails(p.authorization_details);
  if (details) req.authorizationDetails = details;
  checkPkce(p, client, req);
  checkDpopJkt(p, req);
  checkOrganizationUsage(client, req);
  return req;
}

function checkPkce(p: Record<string, string | undefined>, client: Client, req: AuthorizeRequest): void {
  if (p.code_challenge === undefined) {
    if (p.code_challenge_method !== undefined) throw redirectError('invalid_request', 'Missing required parameter: code_challenge');
    return;
  }
  const method = p.code_challenge_method ?? 'plain';
  if (method !== 'S256' && method !== 'plain') throw redirectError('invalid_request', `Unsupported code_challenge_method: ${method}`);
  if (method === 'plain' && client.client_metadata?.[PKCE_PLAIN_METADATA] !== 'true') {
    throw redirectError('invalid_request', 'code_challenge_method plain is not allowed for this client; use S256');
  }
  if (!PKCE_CHALLENGE.test(p.code_challenge)) throw redirectError('invalid_request', 'Invalid code_challenge');
  req.codeChallenge = p.code_challenge;
  req.codeChallengeMethod = method;
}

/**
 * RFC 9449 §10: `dpop_jkt` binds the authorization code to a DPoP key; the code exchange must then carry a proof
 * from that key. An access token returned from /authorize itself could not be bound, so the two do not mix.
 */
function checkDpopJkt(p: Record<string, string | undefined>, req: AuthorizeRequest): void {
  if (p.dpop_jkt === undefined || p.dpop_jkt === '') return;
  if (!JKT.test(p.dpop_jkt)) throw redirectError('invalid_request', 'Invalid dpop_jkt: expected a base64url SHA-256 JWK thumbprint (RFC 7638)');
  if (req.responseType.includes('token')) throw redirectError('invalid_request', 'dpop_jkt cannot be used with a response_type that returns an access token from /authorize');
  req.dpopJkt = p.dpop_jkt;
}

/** The client's `organization_usage`: whether a login may, must or must not name an organization (explain asks it too). */
export function checkOrganizationUsage(client: Client, req: Pick<AuthorizeRequest, 'organization'>): void {
  const usage = client.organization_usage ?? 'deny';
  if (req.organization !== undefined && usage === 'deny') throw redirectError('invalid_request', 'parameter organization is not allowed for this client');
  if (req.organization === undefined && usage === 'require') throw redirectError('invalid_request', 'parameter organization is required for this client');
}
