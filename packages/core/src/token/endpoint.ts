import { InvalidAuthorizationDetails, InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../errors';
import { TOKEN_EXCHANGE_TYPES } from '../logs/events';
import type { EventRecorder } from '../logs/event-log';
import type { Client } from '../model';
import type { ClientAuthenticator } from './client-auth';
import { proofUrls, type DpopVerifier, type EndpointUrls } from './dpop';
import { certificateThumbprint } from './mtls';
import type { GrantHandler, TokenContext, TokenRequest, TokenResponse } from './types';

/** Which clients must put a server nonce in their DPoP proofs at the token endpoint. */
export type DpopNoncePolicy = 'public_clients' | 'all_clients' | 'off';

export interface DpopSettings {
  verifier: DpopVerifier;
  /** The token endpoint's URLs (`htu`): public, and its mTLS alias if any. */
  urls: EndpointUrls;
  nonces: DpopNoncePolicy;
}

/**
 * POST /oauth/token as a pipeline of small named checks (RFC 6749 §3.2); each grant type is a plug-in.
 */
export class TokenEndpoint {
  private handlers = new Map<string, GrantHandler>();

  constructor(private readonly auth: ClientAuthenticator, handlers: GrantHandler[], private readonly dpop?: DpopSettings, private readonly events?: EventRecorder) {
    for (const h of handlers) this.handlers.set(h.grantType, h);
  }

  async handle(request: TokenRequest): Promise<TokenResponse> {
    const grantType = request.params.grant_type;
    if (!grantType) throw new InvalidRequest('Missing required parameter: grant_type');
    const handler = this.handlers.get(grantType);
    if (!handler) throw new UnsupportedGrantType(grantType);
    const ctx: TokenContext = { request, grantType };
    if (!this.events) return this.run(ctx, handler);
    try {
      const res = await this.run(ctx, handler);
      this.record(ctx, res);
      return res;
    } catch (e) {
      this.record(ctx, undefined, e);
      throw e;
    }
  }

  /**
   * The exchange's tenant log event (Auth0's codes per grant type): who, for which API and scopes, or the error and
   * the refusal's description. Queued only (no I/O here); never a token, secret, code or assertion.
   */
  private record(ctx: TokenContext, res?: TokenResponse, error?: unknown): void {
    const codes = TOKEN_EXCHANGE_TYPES[ctx.grantType];
    if (!codes) return;
    const p = ctx.request.params;
    const client = ctx.client;
    const oauth = error instanceof OAuthError ? error : undefined;
    this.events!.record({
      type: res ? codes[0] : codes[1],
      description: res ? undefined : oauth?.message ?? 'Internal error',
      client_id: client?.client_id ?? p.client_id ?? ctx.request.basic?.clientId,
      client_name: client?.name,
      ip: ctx.request.clientIp,
      user_agent: ctx.request.userAgent,
      user_id: res?.subject?.user_id,
      user_name: res?.subject?.user_name ?? (p.username !== undefined ? p.username.slice(0, 256) : undefined),
      audience: res?.subject?.audience ?? p.audience,
      scope: res ? res.scope : p.scope,
      details: res ? { grant_type: ctx.grantType } : { grant_type: ctx.grantType, error: oauth?.code ?? 'server_error' },
    });
  }

  private async run(ctx: TokenContext, handler: GrantHandler): Promise<TokenResponse> {
    const { request, grantType } = ctx;
    const client = await this.auth.authenticate(ctx, handler.allowsPublicClients);
    checkGrantTypeAllowed(client, grantType);
    checkRequiredParameters(request, handler);
    checkAuthorizationDetailsAccepted(request, handler);
    await this.checkDpopProof(ctx);
    thumbprintClientCertificate(ctx);
    ctx.client = client;
    const res = await handler.handle({ ...ctx, client });
    if (ctx.dpop && this.dpop) {
      await ctx.dpop.fresh; // the shared replay cache's verdict, awaited in parallel with the grant
      res.dpopNonce = this.dpop.verifier.currentNonce();
    }
    return res;
  }

  /** RFC 9449 §5: a DPoP header, when sent, must hold exactly one valid proof; what it binds is decided later (binding.ts). */
  private async checkDpopProof(ctx: TokenContext): Promise<void> {
    const proofs = ctx.request.dpop ?? [];
    if (proofs.length === 0 || !this.dpop) return;
    const publicClient = ctx.authMethod === 'none';
    const nonceRequired = this.dpop.nonces === 'all_clients' || (this.dpop.nonces === 'public_clients' && publicClient);
    ctx.dpop = await this.dpop.verifier.verify({ proofs, htm: 'POST', ...proofUrls(this.dpop.urls, ctx.request.viaMtlsListener === true), nonceRequired });
  }
}

/** RFC 8705 §3: the connection's client certificate, if any, is what an mTLS-bound token will be bound to (binding.ts). */
function thumbprintClientCertificate(ctx: TokenContext): void {
  const cert = ctx.request.clientCertificate;
  if (cert) ctx.x5t = certificateThumbprint(cert);
}

/** The client's `grant_types` must list the grant type (explain asks the same question). */
export function checkGrantTypeAllowed(client: Client, grantType: string): void {
  if (!client.grant_types.includes(grantType)) throw new UnauthorizedClient(`Grant type '${grantType}' not allowed for the client.`);
}

/**
 * Auth0 offers Rich Authorization Requests for user flows started at /authorize (and /oauth/par) only: the
 * code exchange and refreshes may narrow them; client_credentials and password grants refuse the parameter.
 */
function checkAuthorizationDetailsAccepted(request: TokenRequest, handler: GrantHandler): void {
  if (request.params.authorization_details !== undefined && !handler.acceptsAuthorizationDetails) {
    throw new InvalidAuthorizationDetails(`authorization_details is not supported with grant type ${handler.grantType}`);
  }
}

function checkRequiredParameters(request: TokenRequest, handler: GrantHandler): void {
  for (const p of handler.required) if (!request.params[p]) throw new InvalidRequest(`Missing required parameter: ${p}`);
}
