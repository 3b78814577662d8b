import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { BodyScopeRule, ScopeRequirement } from '@tessera/core';

/**
 * The OpenAPI 3.1 document served at /openapi.json (and browsed at /docs), generated from the route schemas.
 * The security of each Management operation is derived from the scopes the route itself declares (`config.scopes`,
 * `config.bodyScopes`), the very values the Management plugin checks, so the document cannot disagree with the API.
 */

/** The Management API's Bearer JWT. OpenAPI 3.1 lets a non-OAuth scheme list the scopes ("roles") it needs. */
export const MANAGEMENT_SCHEME = 'managementApi';
/** Client authentication at the Authentication API's client endpoints. */
export const CLIENT_BASIC_SCHEME = 'clientSecretBasic';

/**
 * The security of /oauth/token, /oauth/revoke and /oauth/par: HTTP Basic client credentials, or none in the header
 * (client_secret_post, private_key_jwt and the mTLS methods authenticate in the body or the TLS handshake; public
 * clients send only client_id).
 */
export const CLIENT_AUTH_SECURITY: Array<Record<string, string[]>> = [{ [CLIENT_BASIC_SCHEME]: [] }, {}];

/** The tag of the development controls: declared only in development mode, like the routes themselves. */
export const DEV_TAG = 'development';

const TAGS: Array<{ name: string; description: string }> = [
  { name: 'authentication', description: "Auth0's Authentication API: tokens, the hosted login, consent, MFA, logout and revocation." },
  { name: 'discovery', description: 'OpenID Connect discovery and the JSON Web Key Set of the signing keys.' },
  { name: 'resource-servers', description: 'APIs: the audiences tokens are issued for, their scopes, lifetimes and signing algorithm.' },
  { name: 'clients', description: 'Applications, their secrets and authentication methods.' },
  { name: 'client-grants', description: 'Which application may obtain tokens for which API, with which scopes.' },
  { name: 'grants', description: 'Consents users gave to applications.' },
  { name: 'users', description: 'Users of the database connection, their roles and permissions.' },
  { name: 'users-by-email', description: 'Users looked up by their email address.' },
  { name: 'guardian', description: "Second-factor enrollments, as Auth0's Guardian API shows them." },
  { name: 'user-blocks', description: 'Brute-force protection blocks on users and addresses.' },
  { name: 'sessions', description: "Users' hosted-login sessions: list and end them." },
  { name: 'refresh-tokens', description: "Users' refresh tokens that still work: list and revoke them." },
  { name: 'roles', description: 'Roles, their permissions and their users.' },
  { name: 'organizations', description: 'Organizations, their members, roles, connections and client grants.' },
  { name: 'connections', description: 'The database connection, as Auth0\'s connections API shows it.' },
  { name: 'keys', description: 'Signing keys: list, rotate and revoke.' },
  { name: 'logs', description: 'The tenant log of authentication and Management events.' },
  { name: 'log-streams', description: 'Delivery of the tenant log to HTTP sinks.' },
  { name: 'tenants', description: 'Tenant settings (the default token quotas).' },
  { name: 'tessera', description: 'Tessera extensions to the Management API.' },
  { name: DEV_TAG, description: 'Test controls of development mode (/tessera/dev, no credentials, loopback callers only); absent from `tessera serve`.' },
  { name: 'ops', description: 'Health and metrics for operators (no authentication).' },
];

const code = (scopes: readonly string[]) => scopes.map((s) => `\`${s}\``).join(' and ');

/** Each alternative of a route requirement is one security requirement (OpenAPI: alternatives OR, scopes AND). */
export function managementSecurity(required: ScopeRequirement): Array<Record<string, string[]>> {
  return required.map((alt) => ({ [MANAGEMENT_SCHEME]: typeof alt === 'string' ? [alt] : [...alt] }));
}

/** The same requirement in words, for readers of /docs. */
export function scopeText(required: ScopeRequirement, bodyScopes?: BodyScopeRule): string {
  const alts = required.map((alt) => code(typeof alt === 'string' ? [alt] : alt));
  let text = `**Scopes:** ${alts.length === 1 ? alts[0] : `any of ${alts.join(', or ')}`}.`;
  const fields = Object.entries(bodyScopes?.fields ?? {});
  if (bodyScopes && fields.length > 0) {
    const rules = fields.map(([field, scopes]) => `\`${field}\` needs ${scopes.map((s) => `\`${s}\``).join(' or ')}`);
    text += ` In the body, ${rules.join('; ')}; every other field needs ${bodyScopes.default.map((s) => `\`${s}\``).join(' or ')}.`;
  }
  return text;
}

export function openapiOptions(publicUrl: string, devMode = false): FastifyDynamicSwaggerOptions {
  const managementAudience = `${publicUrl}/api/v2/`;
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description: "Auth0-compatible Management API v2 (`/api/v2`) and Authentication API. Management operations need a Bearer JWT "
          + `for the audience \`${managementAudience}\` from \`POST /oauth/token\` (client_credentials), holding one of the scopes each operation lists.`,
      },
      servers: [{ url: publicUrl }],
      tags: devMode ? TAGS : TAGS.filter((t) => t.name !== DEV_TAG),
      components: {
        securitySchemes: {
          [MANAGEMENT_SCHEME]: {
            type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
            description: `An access token whose audience is \`${managementAudience}\`, issued by \`POST /oauth/token\` with grant_type=client_credentials `
              + 'to a client that has a client grant on that API. The scopes each operation accepts are listed in its security requirement.',
          },
          [CLIENT_BASIC_SCHEME]: {
            type: 'http', scheme: 'basic',
            description: 'client_secret_basic: client_id and client_secret as HTTP Basic credentials. The other methods authenticate '
              + 'in the body (client_secret_post: client_id and client_secret; private_key_jwt: client_assertion and client_assertion_type) '
              + 'or with a TLS client certificate (tls_client_auth, self_signed_tls_client_auth).',
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const config = (route.config ?? {}) as { scopes?: ScopeRequirement; bodyScopes?: BodyScopeRule };
      if (!schema || !config.scopes) return { schema, url };
      const text = scopeText(config.scopes, config.bodyScopes);
      const description = schema.description ? `${schema.description as string}\n\n${text}` : text;
      return { schema: { ...schema, description, security: managementSecurity(config.scopes) }, url };
    },
  };
}
