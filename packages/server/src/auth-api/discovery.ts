import { DPOP_ALGS, ReadCache, type Store } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services';

/**
 * OpenID Provider metadata in Auth0's shape (contract §7.11), derived from TESSERA_PUBLIC_URL, listing only
 * what Tessera implements (no device flow, MFA API or dynamic registration; the scopes and claims that
 * produce something) and RFC 9207's `iss` on authorization responses.
 */
export function discoveryDocument(publicUrl: string, mtls = false, trustedCa = false, mtlsPublicUrl?: string): Record<string, unknown> {
  const u = (p: string) => `${publicUrl}${p}`;
  const doc: Record<string, unknown> = {
    issuer: u('/'),
    authorization_endpoint: u('/authorize'),
    token_endpoint: u('/oauth/token'),
    userinfo_endpoint: u('/userinfo'),
    mfa_challenge_endpoint: u('/mfa/challenge'),
    jwks_uri: u('/.well-known/jwks.json'),
    revocation_endpoint: u('/oauth/revoke'),
    end_session_endpoint: u('/oidc/logout'),
    scopes_supported: ['openid', 'profile', 'offline_access', 'email'],
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
    code_challenge_methods_supported: ['S256', 'plain'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'web_message'],
    subject_types_supported: ['public'],
    // Auth0's list; express-oauth2-jwt-bearer checks access-token algorithms against it (ID tokens are RS256)
    id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    claims_supported: ['aud', 'auth_time', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'nickname', 'picture', 'sub', 'updated_at'],
    request_uri_parameter_supported: false,
    // RFC 9126 §5: PAR is offered, required per client (require_pushed_authorization_requests), not for every client
    pushed_authorization_request_endpoint: u('/oauth/par'),
    require_pushed_authorization_requests: false,
    request_parameter_supported: false,
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  };
  // RFC 8705 §3.3: certificate-bound tokens only where Tessera itself terminates TLS and so sees the certificate
  if (mtls) {
    doc.tls_client_certificate_bound_access_tokens = true;
    doc.token_endpoint_auth_methods_supported = [...(doc.token_endpoint_auth_methods_supported as string[]), ...(trustedCa ? ['tls_client_auth'] : []), 'self_signed_tls_client_auth'];
  }
  if (mtlsPublicUrl) {
    // RFC 8705 §5: the endpoints an mTLS client should call (Auth0's mtls.{domain}); the same listener serves them
    doc.mtls_endpoint_aliases = { token_endpoint: `${mtlsPublicUrl}/oauth/token`, userinfo_endpoint: `${mtlsPublicUrl}/userinfo`, revocation_endpoint: `${mtlsPublicUrl}/oauth/revoke` };
  }
  return doc;
}

/** RFC 9396 §10: the union of the `authorization_details[].type` every API registers, sorted, without repeats. */
export async function authorizationDetailsTypes(store: Store): Promise<string[]> {
  const types = new Set<string>();
  const take = 100;
  for (let offset = 0; ; offset += take) {
    const page = await store.resourceServers.list({ offset, limit: take });
    for (const rs of page.items) {
      for (const d of rs.authorization_details ?? []) if (typeof d.type === 'string') types.add(d.type);
    }
    if (page.items.length < take) break;
  }
  return [...types].sort();
}

export async function discoveryRoutes(app: FastifyInstance, { services, publicUrl, mtls, trustedCa, mtlsPublicUrl }: { services: Services; publicUrl: string; mtls?: boolean; trustedCa?: boolean; mtlsPublicUrl?: string }): Promise<void> {
  const base = discoveryDocument(publicUrl, mtls, trustedCa, mtlsPublicUrl);
  // The serialized document is built once and rebuilt only after the store changed (an API's authorization_details
  // types are part of it): requests in between send the cached string; a build that raced a change is not kept.
  const bodies = new ReadCache<string>(1);
  services.changes.subscribe(() => bodies.clear());
  const body = () => bodies.get('document', async () =>
    JSON.stringify({ ...base, authorization_details_types_supported: await authorizationDetailsTypes(services.store) }));
  const send = async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('cache-control', 'public, max-age=15').header('access-control-allow-origin', '*').type('application/json; charset=utf-8').send(await body());
  app.get('/.well-known/openid-configuration', { schema: { summary: 'OpenID Provider metadata', tags: ['discovery'] } }, send);
  app.get('/.well-known/oauth-authorization-server', { schema: { summary: 'OAuth 2.0 Authorization Server metadata', tags: ['discovery'] } }, send);
  app.get('/.well-known/jwks.json', { schema: { summary: 'JSON Web Key Set: public keys only (current, next, previous)', tags: ['discovery'] } },
    (_req, reply) => reply.header('cache-control', 'public, max-age=15').header('access-control-allow-origin', '*').type('application/json; charset=utf-8').send(services.keys.jwksJson()));
}
