import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors';
import type { Client } from '../model';
import type { ClientAuthenticator } from './client-auth';
import type { GrantHandler, TokenContext, TokenRequest, TokenResponse } from './types';

/**
 * POST /oauth/token as a pipeline of small named checks (RFC 6749 §3.2); each grant type is a plug-in.
 */
export class TokenEndpoint {
  private handlers = new Map<string, GrantHandler>();

  constructor(private readonly auth: ClientAuthenticator, handlers: GrantHandler[]) {
    for (const h of handlers) this.handlers.set(h.grantType, h);
  }

  async handle(request: TokenRequest): Promise<TokenResponse> {
    const grantType = request.params.grant_type;
    if (!grantType) throw new InvalidRequest('Missing required parameter: grant_type');
    const handler = this.handlers.get(grantType);
    if (!handler) throw new UnsupportedGrantType(grantType);
    const ctx: TokenContext = { request, grantType };
    const client = await this.auth.authenticate(ctx, handler.allowsPublicClients);
    checkGrantTypeAllowed(client, grantType);
    checkRequiredParameters(request, handler);
    return handler.handle({ ...ctx, client });
  }
}

function checkGrantTypeAllowed(client: Client, grantType: string): void {
  if (!client.grant_types.includes(grantType)) throw new UnauthorizedClient(`Grant type '${grantType}' not allowed for the client.`);
}

function checkRequiredParameters(request: TokenRequest, handler: GrantHandler): void {
  for (const p of handler.required) if (!request.params[p]) throw new InvalidRequest(`Missing required parameter: ${p}`);
}
