import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { ScopeTokens, VOCABULARY, forbidden } from './scope-tokens';

/**
 * The Management API's route × scope table, written out here (not imported from the routes) so that any
 * change to what a route accepts fails this file. An entry is one scope, or an array that needs all of
 * its scopes. Field-level rules are in management-scopes-fields.test.ts.
 */
type Allowed = Array<string | string[]>;
type Route = [method: string, path: string, allowed: Allowed, body?: unknown];
const ALL_OF_ROLE_MEMBERS: Allowed = [['read:users', 'read:roles'], 'read:role_members'];

const ROUTES: Route[] = [
  ['GET', '/resource-servers', ['read:resource_servers']],
  ['GET', '/resource-servers/rs-none', ['read:resource_servers']],
  ['POST', '/resource-servers', ['create:resource_servers'], {}],
  ['PATCH', '/resource-servers/rs-none', ['update:resource_servers'], {}],
  ['DELETE', '/resource-servers/rs-none', ['delete:resource_servers']],
  ['GET', '/clients', ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary']],
  ['GET', '/clients/cl-none', ['read:clients', 'read:client_keys', 'read:client_credentials', 'read:client_summary']],
  ['POST', '/clients', ['create:clients'], {}],
  ['PATCH', '/clients/cl-none', ['update:clients', 'update:client_keys', 'update:client_credentials', 'update:client_token_vault_privileged_access'], {}],
  ['POST', '/clients/cl-none/rotate-secret', ['update:client_keys']],
  ['DELETE', '/clients/cl-none', ['delete:clients']],
  ['GET', '/clients/cl-none/credentials', ['read:client_credentials']],
  ['POST', '/clients/cl-none/credentials', ['create:client_credentials'], { credential_type: 'cert_subject_dn', subject_dn: 'CN=none' }],
  ['GET', '/clients/cl-none/credentials/cred_none', ['read:client_credentials']],
  ['PATCH', '/clients/cl-none/credentials/cred_none', ['update:client_credentials'], { expires_at: null }],
  ['DELETE', '/clients/cl-none/credentials/cred_none', ['delete:client_credentials']],
  ['GET', '/client-grants', ['read:client_grants']],
  ['GET', '/client-grants/cgr_none', ['read:client_grants']],
  ['POST', '/client-grants', ['create:client_grants'], {}],
  ['PATCH', '/client-grants/cgr_none', ['update:client_grants'], { scope: [] }],
  ['DELETE', '/client-grants/cgr_none', ['delete:client_grants']],
  ['GET', '/client-grants/cgr_none/organizations', ['read:organization_client_grants']],
  ['GET', '/grants', ['read:grants']],
  ['DELETE', '/grants/none', ['delete:grants']],
  ['DELETE', '/grants?user_id=auth0%7Cnone', ['delete:grants']],
  ['GET', '/keys/signing', ['read:signing_keys']],
  ['GET', '/keys/signing/kid-none', ['read:signing_keys']],
  ['PUT', '/keys/signing/kid-none/revoke', ['update:signing_keys']],
  ['GET', '/users', ['read:users']],
  ['GET', '/users-by-email?email=none%40example.com', ['read:users']],
  ['POST', '/users', ['create:users'], {}],
  ['GET', '/users/auth0%7Cnone', ['read:users']],
  ['PATCH', '/users/auth0%7Cnone', ['update:users', 'update:users_app_metadata'], {}],
  ['DELETE', '/users/auth0%7Cnone', ['delete:users']],
  ['GET', '/users/auth0%7Cnone/roles', ALL_OF_ROLE_MEMBERS],
  ['POST', '/users/auth0%7Cnone/roles', ['update:users', 'create:role_members'], { roles: ['rol_none'] }],
  ['DELETE', '/users/auth0%7Cnone/roles', ['update:users', 'delete:role_members'], { roles: ['rol_none'] }],
  ['GET', '/users/auth0%7Cnone/permissions', ['read:users']],
  ['POST', '/users/auth0%7Cnone/permissions', ['update:users'], { permissions: [] }],
  ['DELETE', '/users/auth0%7Cnone/permissions', ['update:users'], { permissions: [] }],
  ['GET', '/tessera/usage', ['read:tessera_usage']],
  ['GET', '/tenants/settings', ['read:tenant_settings']],
  ['PATCH', '/tenants/settings', ['update:tenant_settings'], {}],
  ['POST', '/tessera/explain', ['read:tessera_explain'], { client_id: 'none' }],
  ['GET', '/user-blocks?identifier=none%40example.com', ['read:users']],
  ['DELETE', '/user-blocks?identifier=none%40example.com', ['update:users']],
  ['GET', '/user-blocks/auth0%7Cnone', ['read:users']],
  ['DELETE', '/user-blocks/auth0%7Cnone', ['update:users']],
  ['GET', '/roles', ['read:roles']],
  ['POST', '/roles', ['create:roles'], {}],
  ['GET', '/roles/rol_none', ['read:roles']],
  ['PATCH', '/roles/rol_none', ['update:roles'], {}],
  ['DELETE', '/roles/rol_none', ['delete:roles']],
  ['GET', '/roles/rol_none/permissions', ['read:roles']],
  ['POST', '/roles/rol_none/permissions', ['update:roles'], { permissions: [] }],
  ['DELETE', '/roles/rol_none/permissions', ['update:roles'], { permissions: [] }],
  ['GET', '/roles/rol_none/users', ALL_OF_ROLE_MEMBERS],
  ['POST', '/roles/rol_none/users', ['update:roles', 'create:role_members'], { users: ['auth0|none'] }],
  ['GET', '/organizations', ['read:organizations']],
  ['POST', '/organizations', ['create:organizations'], {}],
  ['GET', '/organizations/org_none', ['read:organizations']],
  ['GET', '/organizations/name/none', ['read:organizations']],
  ['PATCH', '/organizations/org_none', ['update:organizations'], {}],
  ['DELETE', '/organizations/org_none', ['delete:organizations']],
  ['GET', '/organizations/org_none/members', ['read:organization_members']],
  ['POST', '/organizations/org_none/members', ['create:organization_members'], { members: ['auth0|none'] }],
  ['DELETE', '/organizations/org_none/members', ['delete:organization_members'], { members: ['auth0|none'] }],
  ['GET', '/organizations/org_none/members/auth0%7Cnone/roles', ['read:organization_member_roles']],
  ['POST', '/organizations/org_none/members/auth0%7Cnone/roles', ['create:organization_member_roles'], { roles: ['rol_none'] }],
  ['DELETE', '/organizations/org_none/members/auth0%7Cnone/roles', ['delete:organization_member_roles'], { roles: ['rol_none'] }],
  ['GET', '/organizations/org_none/client-grants', ['read:organization_client_grants']],
  ['POST', '/organizations/org_none/client-grants', ['create:organization_client_grants'], { grant_id: 'cgr_none' }],
  ['DELETE', '/organizations/org_none/client-grants/cgr_none', ['delete:organization_client_grants']],
  ['GET', '/organizations/org_none/enabled_connections', ['read:organization_connections']],
  ['POST', '/organizations/org_none/enabled_connections', ['create:organization_connections'], { connection_id: 'con_none' }],
  ['GET', '/organizations/org_none/enabled_connections/con_none', ['read:organization_connections']],
  ['PATCH', '/organizations/org_none/enabled_connections/con_none', ['update:organization_connections'], {}],
  ['DELETE', '/organizations/org_none/enabled_connections/con_none', ['delete:organization_connections']],
  ['GET', '/organizations/org_none/connections', ['read:organization_connections']],
  ['POST', '/organizations/org_none/connections', ['create:organization_connections'], { connection_id: 'con_none' }],
  ['GET', '/organizations/org_none/connections/con_none', ['read:organization_connections']],
  ['PATCH', '/organizations/org_none/connections/con_none', ['update:organization_connections'], {}],
  ['DELETE', '/organizations/org_none/connections/con_none', ['delete:organization_connections']],
  ['GET', '/connections', ['read:connections']],
  ['GET', '/connections/con_none', ['read:connections']],
  ['PATCH', '/connections/con_none', ['update:connections'], {}],
  ['GET', '/connections/con_none/clients', ['read:connections']],
  ['GET', '/users/auth0%7Cnone/authentication-methods', ['read:authentication_methods']],
  ['GET', '/users/auth0%7Cnone/authentication-methods/totp%7Cdev_none', ['read:authentication_methods']],
  ['DELETE', '/users/auth0%7Cnone/authentication-methods/totp%7Cdev_none', ['delete:authentication_methods']],
  ['DELETE', '/users/auth0%7Cnone/authentication-methods', ['delete:authentication_methods']],
  ['GET', '/users/auth0%7Cnone/enrollments', ['read:users']],
  ['GET', '/guardian/enrollments/dev_none', ['read:guardian_enrollments']],
  ['GET', '/users/auth0%7Cnone/sessions', ['read:sessions']],
  ['DELETE', '/users/auth0%7Cnone/sessions', ['delete:sessions']],
  ['GET', '/sessions/ses_none', ['read:sessions']],
  ['DELETE', '/sessions/ses_none', ['delete:sessions']],
  ['GET', '/users/auth0%7Cnone/refresh-tokens', ['read:refresh_tokens']],
  ['DELETE', '/users/auth0%7Cnone/refresh-tokens', ['delete:refresh_tokens']],
  ['GET', '/refresh-tokens/rt_none', ['read:refresh_tokens']],
  ['DELETE', '/refresh-tokens/rt_none', ['delete:refresh_tokens']],
  ['GET', '/logs', ['read:logs', 'read:logs_users']],
  ['GET', '/logs/900none', ['read:logs', 'read:logs_users']],
  ['GET', '/log-streams', ['read:log_streams']],
  ['POST', '/log-streams', ['create:log_streams'], {}],
  ['GET', '/log-streams/lst_none', ['read:log_streams']],
  ['PATCH', '/log-streams/lst_none', ['update:log_streams'], { name: 'x' }],
  ['DELETE', '/log-streams/lst_none', ['delete:log_streams']],
  ['DELETE', '/guardian/enrollments/dev_none', ['delete:guardian_enrollments']],
  // last: with its scopes it really rotates the tenant key
  ['POST', '/keys/signing/rotate', [['create:signing_keys', 'update:signing_keys']]],
];

/** Auth0's wording for a route: "any of" the listed scopes, or "all of" the first set when it is a set. */
function expectedMessage(allowed: Allowed): string {
  const first = allowed[0];
  return Array.isArray(first) ? `Insufficient scope, expected all of: ${first.join(',')}` : `Insufficient scope, expected any of: ${allowed.join(',')}`;
}

const label = (a: string | string[]) => (Array.isArray(a) ? a.join(' + ') : a);

eachDialect('Management API route × scope table', (dialect) => {
  let s: TestServer;
  let tokens: ScopeTokens;
  beforeAll(async () => { s = await startTessera(dialect); tokens = new ScopeTokens(s); });
  afterAll(async () => { await s.close(); });

  it('the table names only scopes of the Management API vocabulary', () => {
    const vocabulary = new Set(VOCABULARY);
    const used = ROUTES.flatMap(([, , allowed]) => allowed.flat());
    expect(used.filter((x) => !vocabulary.has(x))).toEqual([]);
  });

  it('covers every /api/v2 operation the server publishes, and nothing else', async () => {
    const doc = JSON.parse((await s.t.app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, Record<string, unknown>> };
    const ops = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v2/'))
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => ({ op: `${m.toUpperCase()} ${p}`, re: new RegExp(`^${m.toUpperCase()} ${p.slice(7).replace(/\{[^}]+\}/g, '[^/]+')}$`) })));
    const entries = ROUTES.map(([method, path]) => `${method} ${path.split('?')[0]}`);
    expect(ops.filter(({ re }) => !entries.some((e) => re.test(e))).map(({ op }) => op)).toEqual([]);
    expect(entries.filter((e) => !ops.some(({ re }) => re.test(e)))).toEqual([]);
  });

  describe.each(ROUTES)('%s %s', (method, path, allowed, body) => {
    const flat = [...new Set(allowed.flat())];

    it('403 for a token holding every other Management scope', async () => {
      const r = await s.api(method, path, body, { token: await tokens.allBut(flat) });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(forbidden(expectedMessage(allowed)));
    });

    const sets = allowed.filter((a): a is string[] => Array.isArray(a));
    if (sets.length > 0) {
      it('403 when one scope of an all-of set is missing, whatever else the token holds', async () => {
        const singles = allowed.filter((a): a is string => typeof a === 'string');
        for (const set of sets) {
          for (const missing of set) {
            const r = await s.api(method, path, body, { token: await tokens.allBut([missing, ...singles]) });
            expect(r.status, `without ${missing}`).toBe(403);
            expect(r.body).toEqual(forbidden(expectedMessage(allowed)));
          }
        }
      });
    }

    it.each(allowed.map((a) => [label(a), a] as const))('past the scope check with %s alone', async (_name, alt) => {
      const r = await s.api(method, path, body, { token: await tokens.get(Array.isArray(alt) ? alt : [alt]) });
      expect(r.status, JSON.stringify(r.body)).not.toBe(401);
      expect(r.status, JSON.stringify(r.body)).not.toBe(403);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    });
  });
});
