import { randomBase64Url, randomHex } from '../crypto/random';
import type { SecretBox } from '../crypto/envelope';
import { AccessDenied, InvalidRequest, OAuthError } from '../errors';
import { bindingFor } from '../token/binding';
import { DATABASE_CONNECTION_ID, type Client, type Organization, type User } from '../model';
import type { Clock, Store } from '../ports';
import type { Directory } from '../services/directory';
import type { DirectoryReads } from '../token/explain-assume';
import type { ScopeDecision, UserTokenService } from '../services/user-tokens';
import { hashSecret } from '../token/refresh-tokens';
import { checkAuthorizationDetailTypes } from './authorization-details';
import { PushedRequests } from './pushed';
import {
  AuthorizePageError, checkClientAndRedirect, fallbackMode, originOf, parseAuthorizeRequest, redirectError,
  type AuthorizeRequest, type ResponseMode,
} from './request';

/** Where the browser goes with the result (RFC 6749 §4.1.2, OAuth 2.0 Multiple Response Types, Form Post). */
export interface AuthorizeResponse { redirectUri: string; mode: ResponseMode; params: Record<string, string> }

export type Outcome =
  | { kind: 'respond'; response: AuthorizeResponse }
  | {
    kind: 'consent'; client: Client; decision: ScopeDecision; organization?: Organization;
    /** consent_policy `transactional-authorization-with-mfa` with authorization_details: asked every time, after a fresh second factor. */
    transactional: boolean;
  };

export interface LoginState {
  user: User; authTime: number; sessionId?: string;
  /** When this login last passed a second factor (undefined: password only). */
  mfaAt?: number;
}

/**
 * What travels sealed with a pending /authorize request between the hosted pages: `pending` is a user whose
 * password was checked and whose second factor is still due (no session exists yet); `mfa` records a second factor
 * passed during this transaction.
 */
export interface TxExtras {
  pending?: { userId: string; authTime: number };
  mfa?: { userId: string; at: number };
  /** A TOTP secret offered on the enrollment page, stored only once the user proves it with a first code. */
  enroll?: { userId: string; secret: string };
}

const CODE_LIFETIME_MS = 5 * 60_000;
const TX_LIFETIME_MS = 60 * 60_000;
const TX_AAD = 'authorize-transaction';
/** How long a checked password waits for its second factor, and how long a second factor counts as fresh. */
const TX_STEP_MS = 10 * 60_000;

const isLocalhost = (uri: string): boolean => {
  try {
    const h = new URL(uri).hostname;
    return h === 'localhost' || h.endsWith('.localhost') || h === '127.0.0.1' || h === '[::1]';
  } catch { return false; }
};

/** /authorize refuses an audience that is not an API before it looks at the user (explain asks the same). */
export async function checkAuthorizeAudience(directory: DirectoryReads, userinfoAudience: string, aud: string | undefined): Promise<void> {
  if (aud !== undefined && aud !== userinfoAudience && !(await directory.resourceServer(aud))) throw new AccessDenied(`Service not found: ${aud}`);
}

/**
 * The /authorize state machine, free of HTTP: validate the request, decide whether a login or consent is
 * needed, and produce the response parameters (code, tokens, ID token). The pending request travels
 * between the pages sealed (AES-256-GCM) in a transaction handle with a one-hour expiry.
 */
export class AuthorizeService {
  constructor(private readonly deps: {
    store: Store; directory: Directory; clock: Clock; box: SecretBox; userTokens: UserTokenService;
    /** Sent as `iss` with every authorization response (RFC 9207). */
    issuer: string;
  }) {
    this.pushed = new PushedRequests(deps);
    this.selfOrigin = originOf(deps.issuer);
  }

  private readonly selfOrigin: string | undefined;

  private readonly pushed: PushedRequests;

  /**
   * Validates a raw /authorize query. Throws AuthorizePageError (render) or `{error, response}` for redirects.
   * With `request_uri` (RFC 9126 §4) the pushed parameters replace the query's entirely.
   */
  async parse(query: Record<string, string | undefined>, o: { pushing?: boolean } = {}): Promise<AuthorizeRequest> {
    let p = query;
    let client = p.client_id ? (await this.deps.directory.client(p.client_id))?.client : undefined;
    if (p.request_uri !== undefined && !o.pushing) {
      // RFC 9126 §4: client_id is required beside request_uri, and the request is looked up for that client only
      if (!p.client_id) throw new AuthorizePageError('invalid_request', 'Missing required parameter: client_id');
      if (!client) throw new AuthorizePageError('invalid_request', `Unknown client: ${p.client_id}`);
      p = await this.pushed.take(client.client_id, p.request_uri);
      client = (await this.deps.directory.client(p.client_id as string))?.client;
    }
    const redirect = checkClientAndRedirect(p, client);
    try {
      if (client?.require_pushed_authorization_requests && query.request_uri === undefined && !o.pushing) {
        throw redirectError('invalid_request', 'This client requires pushed authorization requests: push the request to /oauth/par and send its request_uri');
      }
      const req = parseAuthorizeRequest(p, client as Client, redirect);
      await checkAuthorizeAudience(this.deps.directory, this.deps.userTokens.userinfoAudience, req.audience);
      await this.checkDetails(req, client as Client);
      return req;
    } catch (e) {
      if (e instanceof OAuthError) throw new AuthorizeRedirect(e, { redirectUri: redirect.redirectUri, mode: fallbackMode(p), state: p.state });
      throw e;
    }
  }

  /**
   * POST /oauth/par (RFC 9126 §2): validates the parameters as /authorize would for the authenticated client,
   * then stores them; errors come back as OAuth errors (400 JSON), not redirects.
   */
  async push(client: Client, params: Record<string, string | undefined>): Promise<{ request_uri: string; expires_in: number }> {
    if (params.request_uri !== undefined) throw new InvalidRequest('request_uri must not be sent to the pushed authorization request endpoint');
    if (params.request !== undefined) throw new InvalidRequest('Request objects (the request parameter) are not supported');
    if (params.client_id !== undefined && params.client_id !== client.client_id) throw new InvalidRequest('client_id does not match the authenticated client');
    const p = { ...params, client_id: client.client_id };
    try {
      await this.parse(p, { pushing: true });
    } catch (e) {
      if (e instanceof AuthorizeRedirect) throw e.error;
      if (e instanceof AuthorizePageError) throw new InvalidRequest(e.message);
      throw e;
    }
    return this.pushed.save(client.client_id, p);
  }

  seal(req: AuthorizeRequest, extras: TxExtras = {}): string {
    return this.deps.box.seal(JSON.stringify({ r: req, x: extras, exp: this.deps.clock.now() + TX_LIFETIME_MS, n: randomBase64Url(9) }), TX_AAD);
  }

  open(handle: string | undefined): AuthorizeRequest {
    return this.openTx(handle).req;
  }

  /** The request and what the pages recorded with it; `pending` and `mfa` count for 10 minutes. */
  openTx(handle: string | undefined): { req: AuthorizeRequest; extras: TxExtras } {
    try {
      const tx = JSON.parse(this.deps.box.openString(handle ?? '', TX_AAD)) as { r: AuthorizeRequest; x?: TxExtras; exp: number };
      const now = this.deps.clock.now();
      if (tx.exp > now) {
        const x = tx.x ?? {};
        const extras: TxExtras = {};
        if (x.pending && now - x.pending.authTime <= TX_STEP_MS) extras.pending = x.pending;
        if (x.mfa && now - x.mfa.at <= TX_STEP_MS) extras.mfa = x.mfa;
        if (x.enroll) extras.enroll = x.enroll;
        return { req: tx.r, extras };
      }
    } catch { /* below */ }
    throw new AuthorizePageError('invalid_request', 'The login transaction is invalid or has expired. Start again from the application.');
  }

  /** Whether an existing session can be used (not with prompt=login, and within max_age). */
  sessionUsable(req: AuthorizeRequest, authTime: number): boolean {
    if (req.prompt.includes('login')) return false;
    return req.maxAge === undefined || this.deps.clock.now() - authTime <= req.maxAge * 1000;
  }

  /**
   * With a logged-in user: consent page, or the response. `consented` records the user's approval first;
   * `freshMfaAt` is when a second factor was passed for this very transaction (transactional consent needs it).
   */
  async proceed(req: AuthorizeRequest, login: LoginState, consented = false, freshMfaAt?: number): Promise<Outcome> {
    return this.redirectOnError(req, async () => {
      const client = (await this.deps.directory.client(req.clientId))?.client;
      if (!client) throw new AuthorizePageError('invalid_request', `Unknown client: ${req.clientId}`);
      await this.checkDetails(req, client); // types may have been withdrawn while the user was logging in
      // silent authentication for another account than the session's: only the user can switch accounts
      if (req.prompt.includes('none') && req.loginHint !== undefined && req.loginHint.toLowerCase() !== login.user.email?.toLowerCase()) {
        throw redirectError('interaction_required', 'The user logged in is not the one login_hint names; interaction required');
      }
      const organization = await this.organization(req.organization, login.user, client);
      const decision = await this.deps.userTokens.decide({
        client, userId: login.user.user_id, audience: req.audience, requested: req.scopes, organizationId: organization?.id,
        unknownAudience: (aud) => new AccessDenied(`Service not found: ${aud}`),
      });
      const transactional = this.transactional(req, decision);
      const approved = consented && (!transactional || this.mfaFresh(freshMfaAt));
      if (approved && !transactional) await this.remember(client, login.user, decision);
      else if (!approved && (transactional || await this.consentNeeded(req, client, login.user, decision))) {
        if (req.prompt.includes('none')) throw redirectError('consent_required', 'Consent required');
        return { kind: 'consent', client, decision, organization, transactional };
      }
      return { kind: 'respond', response: await this.respond(req, client, login, decision, organization) };
    });
  }

  /**
   * An API with consent_policy `transactional-authorization-with-mfa` and a request carrying authorization_details:
   * the consent covers this transaction only (never remembered, never skipped) and needs a fresh second factor.
   * Without authorization_details the API's normal consent rules apply.
   */
  transactional(req: AuthorizeRequest, d: ScopeDecision): boolean {
    const details = req.authorizationDetails;
    return !d.userinfoOnly && d.api.consent_policy === 'transactional-authorization-with-mfa' && Array.isArray(details) && details.length > 0;
  }

  /** A second factor passed for the transaction within the last 10 minutes. */
  mfaFresh(at: number | undefined): boolean {
    return at !== undefined && at <= this.deps.clock.now() && this.deps.clock.now() - at <= TX_STEP_MS;
  }

  /** The user declined on the consent page. */
  denied(req: AuthorizeRequest): AuthorizeResponse {
    return this.errorResponse(req, redirectError('access_denied', 'User did not authorize the request'));
  }

  /** prompt=none without a usable session. */
  loginRequired(req: AuthorizeRequest): AuthorizeResponse {
    return this.errorResponse(req, redirectError('login_required', 'Login required'));
  }

  errorResponse(req: Pick<AuthorizeRequest, 'redirectUri' | 'responseMode' | 'state'>, e: OAuthError): AuthorizeResponse {
    const params: Record<string, string> = { error: e.code, error_description: e.message };
    if (req.state !== undefined) params.state = req.state;
    params.iss = this.deps.issuer;
    return { redirectUri: req.redirectUri, mode: req.responseMode, params };
  }

  private async redirectOnError(req: AuthorizeRequest, fn: () => Promise<Outcome>): Promise<Outcome> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof OAuthError) return { kind: 'respond', response: this.errorResponse(req, e) };
      throw e;
    }
  }

  /** RFC 9396 §5: each requested type registered on the API and allowed by the client's user grant. */
  private async checkDetails(req: AuthorizeRequest, client: Client): Promise<void> {
    if (!req.authorizationDetails) return;
    const aud = req.audience;
    const api = aud === undefined || aud === this.deps.userTokens.userinfoAudience ? undefined : await this.deps.directory.resourceServer(aud);
    const grant = api && ((await this.deps.directory.grant(client.client_id, api.identifier, 'user'))
      ?? (client.is_first_party ? undefined : await this.deps.directory.defaultGrant(api.identifier, 'user')));
    checkAuthorizationDetailTypes(req.authorizationDetails, api, grant);
  }

  /**
   * The organization a login goes through (by id or name), refused unless the client and the user may use it.
   * `assign: false` (explain) leaves a non-member that assign_membership_on_login would admit a non-member.
   */
  async organization(idOrName: string | undefined, user: User, client: Client, assign = true): Promise<Organization | undefined> {
    if (idOrName === undefined) return undefined;
    const orgs = this.deps.store.organizations;
    const org = (await orgs.findById(idOrName)) ?? (await orgs.findByName(idOrName));
    if (!org) throw redirectError('invalid_request', `no organization found for ${idOrName}`);
    if (!client.is_first_party && org.third_party_client_access === 'block') {
      throw new AccessDenied(`the ${org.id} organization does not allow third-party clients (third_party_client_access: block)`);
    }
    // The database connection's settings in the organization: explicitly disabled refuses every login through it;
    // assign_membership_on_login makes a non-member a member. No entry at all keeps Tessera's members-only rule.
    const settings = org.connections?.find((c) => c.connection_id === DATABASE_CONNECTION_ID);
    if (settings && !settings.is_enabled) {
      throw new AccessDenied(`the connection ${user.connection} is not enabled for the ${org.id} organization`);
    }
    if (!(await orgs.isMember(org.id, user.user_id))) {
      if (!settings?.assign_membership_on_login) throw new AccessDenied(`user ${user.user_id} is not part of the ${org.id} organization`);
      if (assign) await this.deps.store.write((tx) => tx.organizations.addMembers(org.id, [user.user_id]));
    }
    return org;
  }

  /**
   * Consent is skipped only for first-party clients of APIs with skip_consent_for_verifiable_first_party_clients
   * whose redirect_uri is not localhost (it cannot be verified); otherwise it is asked once and remembered.
   */
  async consentNeeded(req: Pick<AuthorizeRequest, 'prompt' | 'redirectUri' | 'authorizationDetails'>, client: Client, user: User, d: ScopeDecision): Promise<boolean> {
    if (req.prompt.includes('consent')) return true;
    if (client.is_first_party && d.api.skip_consent_for_verifiable_first_party_clients && !isLocalhost(req.redirectUri)) return false;
    // a first-party client returning to a page of Tessera's own origin (the dashboard) is Tessera itself
    if (client.is_first_party && originOf(req.redirectUri) === this.selfOrigin && !req.authorizationDetails) return false;
    // authorization details describe one transaction (a payment, a transfer): asked every time, never remembered
    if (req.authorizationDetails) return true;
    const known = await this.deps.store.consents.find(user.user_id, client.client_id, d.api.identifier);
    return !known || !d.scopes.every((s) => known.scopes.includes(s));
  }

  private async remember(client: Client, user: User, d: ScopeDecision): Promise<void> {
    const { consents } = this.deps.store;
    const known = await consents.find(user.user_id, client.client_id, d.api.identifier);
    const scopes = [...new Set([...(known?.scopes ?? []), ...d.scopes])];
    await consents.upsert({ id: known?.id ?? randomHex(12), userId: user.user_id, clientId: client.client_id, audience: d.api.identifier, scopes });
  }

  private async respond(req: AuthorizeRequest, client: Client, login: LoginState, d: ScopeDecision, org?: Organization): Promise<AuthorizeResponse> {
    const params: Record<string, string> = {};
    const types = req.responseType;
    // no DPoP proof can come through the front channel: an access token here is Bearer, or refused by the §7.9 matrix
    if (types.includes('token')) bindingFor({ client, publicClient: client.token_endpoint_auth_method === 'none', jkt: undefined }, d.userinfoOnly ? 'userinfo' : d.api);
    let code: string | undefined;
    if (types.includes('code')) {
      code = randomBase64Url(32);
      await this.deps.store.authorizationCodes.insert({
        codeHash: hashSecret(code),
        expiresAt: this.deps.clock.now() + CODE_LIFETIME_MS,
        grant: {
          clientId: client.client_id, userId: login.user.user_id, redirectUri: req.redirectUri, redirectUriGiven: req.redirectUriGiven,
          audience: d.userinfoOnly ? undefined : d.api.identifier, scopes: d.scopes, nonce: req.nonce, authTime: login.authTime,
          orgId: org?.id, sessionId: login.sessionId, ...(login.mfaAt !== undefined && { amr: ['mfa'] }), codeChallenge: req.codeChallenge, codeChallengeMethod: req.codeChallengeMethod,
          ...(req.dpopJkt ? { dpopJkt: req.dpopJkt } : {}),
          ...(req.authorizationDetails && { authorizationDetails: req.authorizationDetails }),
        },
      });
      params.code = code;
      // housekeeping off the response path: codes past their lifetime are useless (indexed delete)
      this.deps.store.authorizationCodes.deleteExpired(this.deps.clock.now() - CODE_LIFETIME_MS).catch(() => undefined);
    }
    let accessToken: string | undefined;
    if (types.includes('token')) {
      const at = await this.deps.userTokens.accessToken({ client, user: login.user, decision: d, flow: 'web', orgId: org?.id, amr: login.mfaAt !== undefined ? ['mfa'] : undefined, authorizationDetails: req.authorizationDetails });
      accessToken = at.token;
      Object.assign(params, { access_token: at.token, token_type: 'Bearer', expires_in: String(at.expiresIn) });
      if (d.scopes.length > 0) params.scope = d.scopes.join(' ');
    }
    if (types.includes('id_token')) {
      params.id_token = await this.deps.userTokens.idToken({
        client, user: login.user, scopes: d.scopes, authTime: login.authTime, nonce: req.nonce, orgId: org?.id, accessToken, code,
        amr: login.mfaAt !== undefined ? ['mfa'] : undefined,
      });
    }
    if (req.state !== undefined) params.state = req.state;
    params.iss = this.deps.issuer; // RFC 9207 §2
    return { redirectUri: req.redirectUri, mode: req.responseMode, params };
  }
}

/** A validation error that goes back to the client's redirect_uri. */
export class AuthorizeRedirect extends Error {
  constructor(readonly error: OAuthError, readonly target: { redirectUri: string; mode: ResponseMode; state?: string }) { super(error.message); }
}

export { AuthorizePageError };
