import { Type } from '@sinclair/typebox';
import { EXPLAIN_GRANT_TYPES, SCOPE_RULES, type ExplainAssumptions, type ExplainRequest } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, StringEnum } from '../schemas/common';
import { resourceServerFields } from '../schemas/resource-server';
import type { Services } from '../services';

const tags = ['tessera'];

const RULES = SCOPE_RULES;

const Permission = Type.Object({ resource_server_identifier: Type.String({ minLength: 1, maxLength: 600 }), permission_name: Type.String({ minLength: 1, maxLength: 280 }) }, { additionalProperties: false });
const f = resourceServerFields;

/** The planned configuration explain may assume (`tessera plan`): APIs, clients, client grants and role permissions. */
const Assume = Type.Object({
  resource_servers: Type.Optional(Type.Array(Type.Object({
    identifier: Type.String({ minLength: 1, maxLength: 600 }), deleted: Type.Optional(Type.Boolean()),
    scopes: Type.Optional(f.scopes), enforce_policies: Type.Optional(f.enforce_policies), token_dialect: Type.Optional(f.token_dialect),
    subject_type_authorization: Type.Optional(f.subject_type_authorization), allow_offline_access: Type.Optional(f.allow_offline_access),
    skip_consent_for_verifiable_first_party_clients: Type.Optional(f.skip_consent_for_verifiable_first_party_clients),
    token_lifetime: Type.Optional(f.token_lifetime), token_lifetime_for_web: Type.Optional(f.token_lifetime_for_web),
  }, { additionalProperties: false }), { maxItems: 100 })),
  clients: Type.Optional(Type.Array(Type.Object({
    client_id: Type.String({ minLength: 1, maxLength: 256 }), is_first_party: Type.Optional(Type.Boolean()),
    grant_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 20 })),
  }, { additionalProperties: false }), { maxItems: 1000 })),
  client_grants: Type.Optional(Type.Array(Type.Object({
    client_id: Type.String({ minLength: 1, maxLength: 256 }), audience: Type.String({ minLength: 1, maxLength: 600 }),
    subject_type: Type.Optional(StringEnum(['client', 'user'] as const)), deleted: Type.Optional(Type.Boolean()),
    scope: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 280 }), { maxItems: 1000 })), allow_all_scopes: Type.Optional(Type.Boolean()),
    organization_usage: Type.Optional(StringEnum(['deny', 'allow', 'require'] as const)), allow_any_organization: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }), { maxItems: 1000 })),
  roles: Type.Optional(Type.Array(Type.Object({
    id: Type.String({ minLength: 1, maxLength: 256 }), permissions: Type.Array(Permission, { maxItems: 1000 }),
  }, { additionalProperties: false }), { maxItems: 1000 })),
}, { additionalProperties: false, description: 'Explain over the stored configuration with these changes laid over it (nothing is written).' });

const ExplainBody = Type.Object({
  client_id: Type.String({ minLength: 1, maxLength: 256, description: 'The client asking for the token.' }),
  user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The user the token would be for (password, password-realm and authorization_code; a refresh token names its own).' })),
  audience: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'The API identifier (required for client_credentials; without it a user token is for /userinfo; a refresh token names its own).' })),
  scope: Type.Optional(Type.String({ maxLength: 4096, description: 'Space-separated scopes as the request would send them; absent: what the grant type implies (refresh_token: the scope the token was issued with, which it may narrow, never widen).' })),
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Organization id (or name, at /authorize); client_credentials and authorization_code only.' })),
  realm: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'password-realm: the connection the request names.' })),
  refresh_token_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'refresh_token: the id of a refresh token as GET /api/v2/users/{id}/refresh-tokens shows it; the token its client holds now is explained.' })),
  grant_type: Type.Optional(StringEnum(EXPLAIN_GRANT_TYPES, {
    description: 'Default: refresh_token with refresh_token_id, password-realm with realm, authorization_code with user_id, client_credentials otherwise. A field the grant type does not read is refused (400).',
  })),
  assume: Type.Optional(Assume),
}, { additionalProperties: false });

const Source = Type.Object({
  type: StringEnum(['role', 'direct'] as const), role_id: Type.Optional(Type.String()), role_name: Type.Optional(Type.String()), organization_id: Type.Optional(Type.String()),
});

const Verdict = Type.Object({
  value: Type.String(),
  granted: Type.Boolean(),
  rule: StringEnum(RULES),
  client_grant_id: Type.Optional(Type.String()),
  sources: Type.Optional(Type.Array(Source)),
  policy: Type.Optional(Type.String()),
  consent: Type.Optional(StringEnum(['remembered', 'required', 'skipped'] as const)),
});

const ExplainResponse = Type.Object({
  grant_type: Type.String(),
  client_id: Type.String(),
  user_id: Type.Optional(Type.String()),
  audience: Type.Optional(Type.String()),
  issued: Type.Boolean({ description: 'Whether /oauth/token would issue a token.' }),
  scope: Type.Optional(Type.String({ description: 'The scope the token endpoint would answer.' })),
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
  rule: Type.Optional(StringEnum(RULES, { description: 'The rule that refused the request.' })),
  client_grant_id: Type.Optional(Type.String()),
  policy: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: 'refresh_token: why the token is refused beyond the public description (revoked, expired, other client, …).' })),
  consent: Type.Optional(StringEnum(['remembered', 'required', 'skipped'] as const, { description: 'authorization_code: whether the consent page would be shown.' })),
  mfa: Type.Optional(StringEnum(['required'] as const, { description: 'password grants: the token endpoint first answers mfa_required; the token explained is the one the MFA grants then issue.' })),
  refresh_token: Type.Optional(Type.Object({
    id: Type.String(), client_id: Type.String(), scope: Type.String({ description: 'The scope it was issued with.' }), audience: Type.Optional(Type.String()),
    organization_id: Type.Optional(Type.String()), rotating: Type.Boolean(), expires_at: Type.Optional(Type.String()),
    idle_expires_at: Type.Optional(Type.String()), revoked_at: Type.Optional(Type.String()),
    used_at: Type.Optional(Type.String()),
    bound_to: Type.Optional(StringEnum(['dpop', 'client_certificate'] as const, { description: 'The exchange needs this proof; explain assumes it is presented.' })),
  }, { description: 'refresh_token: the token explained (the current token of its family).' })),
  scopes: Type.Array(Verdict),
  claims: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The access token claims, unsigned.' })),
});

/**
 * POST /api/v2/tessera/explain (Tessera extension, scope read:tessera_explain): for a client (and a user), which
 * scopes a token would carry and the rule behind each, with the claims as they would be minted (unsigned).
 */
export async function tesseraExplainRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  app.post('/tessera/explain', {
    schema: { summary: 'Explain which scopes a token would get (Tessera extension)', tags, body: ExplainBody, response: { 200: ExplainResponse, ...errorResponses } },
    config: { scopes: ['read:tessera_explain'], readOnly: true },
  }, async (req) => {
    const { assume, ...request } = req.body as ExplainRequest & { assume?: ExplainAssumptions };
    return services.explainer.explain(request, assume);
  });
}
