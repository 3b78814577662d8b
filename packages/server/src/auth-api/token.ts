import { InvalidClient, InvalidRequest, parseBasicAuth, type TokenRequest, type TokenResponse as TokenBody } from '@tessera/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dpopHeaders } from '../http/dpop-header';
import { viaMtlsListener } from '../http/mtls-listener';
import { clientCertificateOf, type CertificateSources } from '../http/client-certificate';
import type { Services } from '../services';
import { checkBrowserOrigin } from '../http/cors';
import { CLIENT_AUTH_SECURITY } from '../openapi';

const TokenResponse = {
  type: 'object',
  properties: {
    access_token: { type: 'string' }, refresh_token: { type: 'string' }, id_token: { type: 'string' },
    scope: { type: 'string' }, expires_in: { type: 'integer' }, token_type: { type: 'string' }, recovery_code: { type: 'string' },
    authorization_details: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  required: ['access_token', 'expires_in', 'token_type'],
} as const;

/** Single-valued string parameters from a form or JSON body; duplicates and non-strings are refused. */
export function tokenRequestFrom(req: FastifyRequest, certificates: CertificateSources = {}): TokenRequest {
  const body = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequest('The request body must be application/x-www-form-urlencoded or application/json.');
  }
  const form = req.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    // RFC 9396 §6: a JSON body may carry authorization_details as JSON itself; it is checked as its text form
    if (!form && k === 'authorization_details' && v !== null && typeof v === 'object') { params[k] = JSON.stringify(v); continue; }
    if (Array.isArray(v)) throw new InvalidRequest(form ? `Duplicate parameter: ${k}` : `Invalid parameter: ${k} must be a string`);
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new InvalidRequest(`Invalid parameter: ${k} must be a string`);
    params[k] = String(v);
  }
  const basic = parseBasicAuth(req.headers.authorization);
  // an undecodable Basic header is a failed client authentication (RFC 6749 §5.2), not a syntax error
  if (basic === 'malformed') throw new InvalidClient('malformed Basic header');
  return { params, basic, dpop: dpopHeaders(req), clientCertificate: clientCertificateOf(req, certificates), clientIp: req.ip, viaMtlsListener: viaMtlsListener(req), userAgent: userAgentOf(req) };
}

/** The User-Agent header for the tenant log, bounded. */
export const userAgentOf = (req: FastifyRequest): string | undefined => req.headers['user-agent']?.slice(0, 512);

/** Exactly the declared fields, in the order Auth0 sends them: access_token, [refresh_token], [id_token], [scope], expires_in, token_type, [authorization_details]. */
function inWireOrder(r: TokenBody): TokenBody {
  const out: Partial<TokenBody> = { access_token: r.access_token };
  if (r.refresh_token !== undefined) out.refresh_token = r.refresh_token;
  if (r.id_token !== undefined) out.id_token = r.id_token;
  if (r.scope !== undefined) out.scope = r.scope;
  out.expires_in = r.expires_in;
  out.token_type = r.token_type;
  if (r.recovery_code !== undefined) out.recovery_code = r.recovery_code;
  if (r.authorization_details !== undefined) out.authorization_details = r.authorization_details;
  return out as TokenBody;
}

/** The client a token or revocation request names (body or Basic header), for the browser-origin check. */
export const namedClient = (r: TokenRequest): string | undefined => r.params.client_id ?? (typeof r.basic === 'object' ? r.basic.clientId : undefined);

/** POST /oauth/token (RFC 6749 §3.2): transport only; the pipeline lives in @tessera/core. */
export async function tokenRoutes(app: FastifyInstance, { services, certificates, selfOrigin }: { services: Services; certificates?: CertificateSources; selfOrigin: string }): Promise<void> {
  app.post('/oauth/token', {
    schema: {
      summary: 'Get tokens', tags: ['authentication'], security: CLIENT_AUTH_SECURITY, response: { 200: TokenResponse },
      description: 'A form (`application/x-www-form-urlencoded`) or JSON body with `grant_type` (`client_credentials`, '
        + '`authorization_code`, `refresh_token`, `password`, `http://auth0.com/oauth/grant-type/password-realm`, the MFA grants) and its '
        + 'parameters; `audience` names the API (its identifier) and `scope` the scopes asked for. The client authenticates with '
        + 'HTTP Basic, `client_id` + `client_secret` in the body, `client_assertion` (private_key_jwt) or a TLS client certificate. '
        + 'Errors are OAuth errors: `{error, error_description}`.',
    },
    logLevel: 'warn',
  }, async (req, reply) => {
    const request = tokenRequestFrom(req, certificates);
    if (req.headers.origin !== undefined) await checkBrowserOrigin(req, reply, services, selfOrigin, namedClient(request));
    const res = await services.tokenEndpoint.handle(request);
    if (res.dpopNonce) reply.header('dpop-nonce', res.dpopNonce);
    if (res.quotaHeaders) reply.headers(res.quotaHeaders);
    if (res.quotaWarnings) for (const w of res.quotaWarnings) req.log.warn({ quota: w }, 'token quota exceeded (not enforced): token issued');
    if (res.reused) req.log.debug({ client_id: namedClient(request) }, 'token reused');
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      .type('application/json; charset=utf-8').serializer(JSON.stringify).send(inWireOrder(res));
  });
}
