import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OAuthError, type ExplainAnswer, type TokenResponse } from '@tessera/core';
import { CHEAP_PASSWORDS, eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { Browser, CALLBACK, CONNECTION, PASSWORD, authorize, callbackParams, createUser, createWebApp } from './helpers/flows';
import { uniq } from './helpers/management';

/**
 * Explain runs the token pipeline's own decisions; this property holds it to that: on random configurations
 * (API scopes, subject-type policies, RBAC switches, dialects, client grants and default grants, organization
 * usage and associations, roles, member roles, direct permissions, first- and third-party clients, requested
 * scopes), explain's answer is what the token endpoint does: the same token or the same refusal, the same scope and
 * the same claims (time and id claims aside). client_credentials runs against the token pipeline in process (and a
 * sample over a real socket); the user side runs a real login at /authorize (prompt=none on a session) and the code
 * exchange, so consent and organization membership are compared too; the password and password-realm grants (with
 * right and wrong realms) log in with the password; refresh tokens are issued by the refresh-token service with random
 * grants (the scopes, API, organization and amr a login may have left, then the configuration changed under them),
 * in random states (live, revoked, expired, spent under rotation, asked for by another client, of a blocked user),
 * and refreshed with random scopes (narrowing and widening).
 */
const POOL = ['read:a', 'write:a', 'delete:a', 'admin:a', 'read:b'];
const EXTRA = ['x:unknown', 'openid', 'profile', 'offline_access'];
const DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
const CC_RUNS = Number(process.env.EXPLAIN_CC_RUNS ?? 1000);
const USER_RUNS = Number(process.env.EXPLAIN_USER_RUNS ?? 250);
const HTTP_SAMPLE = 25;
/** The password grants verify a password hash per case (scrypt, at the cheap test cost): a smaller run. */
const PASSWORD_RUNS = Number(process.env.EXPLAIN_PASSWORD_RUNS ?? 40);
/** Refresh: each configuration (the costly part of a case) is explained for several refresh tokens. */
const REFRESH_RUNS = Number(process.env.EXPLAIN_REFRESH_RUNS ?? 60);
const TOKENS_PER_CASE = 3;
const REALM = 'http://auth0.com/oauth/grant-type/password-realm';

type Outcome = { ok: true; res: TokenResponse } | { ok: false; error: string; description: string };

const payload = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const timeless = (c: Record<string, unknown> | undefined) => {
  const { iat: _i, exp: _e, jti: _j, ...rest } = c ?? {};
  return rest;
};

/** The explain answer says exactly what the token endpoint did. */
function expectAgreement(ex: ExplainAnswer, out: Outcome, context: unknown): void {
  const why = JSON.stringify({ context, ex, out: out.ok ? { scope: out.res.scope } : out });
  if (!out.ok) {
    expect(ex.issued, why).toBe(false);
    expect(ex.error, why).toBe(out.error);
    expect(ex.error_description, why).toBe(out.description);
    expect(ex.rule, why).toBeDefined();
    expect(ex.scopes.filter((v) => v.granted), why).toEqual([]);
    return;
  }
  expect(ex.issued, why).toBe(true);
  expect(ex.scope, why).toBe(out.res.scope);
  const claims = payload(out.res.access_token);
  expect(timeless(ex.claims), why).toEqual(timeless(claims));
  // the per-scope verdicts: exactly the API scopes the token carries are granted
  const carried = new Set((out.res.scope ?? '').split(' ').filter(Boolean));
  for (const v of ex.scopes) {
    if (POOL.includes(v.value)) expect(v.granted, `${v.value} ${why}`).toBe(carried.has(v.value));
    if (v.granted) expect(['client_grant', 'allow_all_scopes', 'subject_type_policy', 'rbac_role', 'direct_permission'], why).toContain(v.rule);
    else expect(['client_grant', 'allow_all_scopes', 'subject_type_policy', 'rbac_role', 'direct_permission'], why).not.toContain(v.rule);
  }
}

const apiArb = fc.record({
  scopes: fc.subarray(POOL),
  clientPolicy: fc.constantFrom(undefined, 'require_client_grant', 'deny_all'),
  userPolicy: fc.constantFrom(undefined, 'allow_all', 'require_client_grant', 'deny_all'),
  rbac: fc.boolean(),
  dialect: fc.constantFrom(...DIALECTS),
  skipConsent: fc.boolean(),
});
type UserCase = {
  api: ApiCase; client: number; user: number; grant?: { allScopes: boolean; scope: string[] }; defaultGrant?: { allScopes: boolean; scope: string[] };
  roles: Array<{ perms: string[]; via: string }>; direct: string[];
};
type ApiCase = { scopes: string[]; clientPolicy?: string; userPolicy?: string; rbac: boolean; dialect: string; skipConsent: boolean };
const grantArb = fc.option(fc.record({ allScopes: fc.boolean(), scope: fc.subarray(POOL) }), { nil: undefined, freq: 4 });
const requestedArb = fc.option(fc.subarray([...POOL, ...EXTRA]).map((s) => s.join(' ')), { nil: undefined, freq: 2 });
const userCaseArb = {
  api: apiArb, client: fc.constantFrom(0, 0, 1, 1, 2), user: fc.constantFrom(0, 1), grant: grantArb, defaultGrant: grantArb,
  roles: fc.array(fc.record({ perms: fc.subarray(POOL, { minLength: 1 }), via: fc.constantFrom('user', 'org', 'other-user') }), { maxLength: 3 }),
  direct: fc.subarray(POOL),
};
const audienceArb = fc.constantFrom('api', 'api', 'api', 'api', 'api', 'api', 'unknown', 'none');

eachDialect('explain agrees with the token endpoint', (dialect) => {
  let s: TestServer;
  let origin: string;
  const m2m: Array<{ client_id: string; secret: string }> = [];
  const web: Array<{ clientId: string; secret: string }> = [];
  const users: Array<{ id: string; email: string; browser: Browser }> = [];
  let memberOrg: string;
  let otherOrg: string;
  let blockedUser: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await s.api(method, path, body);
    expect(r.status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  const inProcess = async (params: Record<string, string>): Promise<Outcome> => {
    try {
      return { ok: true, res: await s.t.services.tokenEndpoint.handle({ params, clientIp: '127.0.0.1' }) };
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      return { ok: false, error: e.code, description: e.message };
    }
  };
  const overHttp = async (params: Record<string, string>): Promise<Outcome> => {
    const r = await fetch(`${origin}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
    const body = await r.json() as Record<string, string>;
    return r.ok ? { ok: true, res: body as unknown as TokenResponse } : { ok: false, error: body.error, description: body.error_description };
  };

  /** A new API per case (nothing carries over between cases), with its scopes, policies, RBAC switch and dialect. */
  const createCaseApi = async (a: ApiCase) => {
    const identifier = `https://explain-${uniq()}.example`;
    await api('POST', '/resource-servers', {
      identifier, scopes: a.scopes.map((value) => ({ value, description: value })), enforce_policies: a.rbac, token_dialect: a.dialect,
      skip_consent_for_verifiable_first_party_clients: a.skipConsent,
      subject_type_authorization: { ...(a.clientPolicy && { client: { policy: a.clientPolicy } }), ...(a.userPolicy && { user: { policy: a.userPolicy } }) },
    });
    return identifier;
  };
  const createGrant = async (body: Record<string, unknown>, g: { allScopes: boolean; scope: string[] }, defined: string[]) => {
    const scope = g.scope.filter((x) => defined.includes(x));
    return (await api('POST', '/client-grants', { ...body, ...(g.allScopes ? { allow_all_scopes: true } : { scope }) })).id as string;
  };

  /** A user case's configuration: a new API, the client's user grant, a default grant, roles, member roles, direct permissions. */
  const configureUser = async (c: UserCase) => {
    const identifier = await createCaseApi(c.api);
    const client = web[c.client];
    const user = users[c.user];
    const defined = c.api.scopes;
    if (c.grant) await createGrant({ client_id: client.clientId, audience: identifier, subject_type: 'user' }, c.grant, defined);
    if (c.defaultGrant) await createGrant({ default_for: 'third_party_clients', audience: identifier, subject_type: 'user' }, c.defaultGrant, defined);
    for (const r of c.roles) {
      const perms = r.perms.filter((p) => defined.includes(p));
      const role = await api('POST', '/roles', { name: `role-${uniq()}` });
      if (perms.length > 0) await api('POST', `/roles/${role.id}/permissions`, { permissions: perms.map((permission_name) => ({ resource_server_identifier: identifier, permission_name })) });
      if (r.via === 'user') await api('POST', `/users/${encodeURIComponent(user.id)}/roles`, { roles: [role.id] });
      else if (r.via === 'org') await api('POST', `/organizations/${memberOrg}/members/${encodeURIComponent(user.id)}/roles`, { roles: [role.id] });
      else await api('POST', `/users/${encodeURIComponent(users[1 - c.user].id)}/roles`, { roles: [role.id] });
    }
    const direct = c.direct.filter((p) => defined.includes(p));
    if (direct.length > 0) await api('POST', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: direct.map((permission_name) => ({ resource_server_identifier: identifier, permission_name })) });
    return { identifier, client, user };
  };

  beforeAll(async () => {
    s = await startTessera(dialect, { passwordParams: CHEAP_PASSWORDS });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    origin = `http://127.0.0.1:${(s.t.app.server.address() as AddressInfo).port}`;
    for (const is_first_party of [true, false]) {
      const c = await api('POST', '/clients', { name: `m2m-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], is_first_party });
      m2m.push({ client_id: c.client_id, secret: c.client_secret });
    }
    // logins may name an organization (a third client refuses it: the client's organization_usage)
    // their refresh tokens: not rotating; rotating without leeway (a spent token used again revokes its family); rotating with 30 s of leeway
    const rotating = (leeway: number) => ({ rotation_type: 'rotating', expiration_type: 'expiring', leeway, token_lifetime: 3600, idle_token_lifetime: 1800, infinite_token_lifetime: false, infinite_idle_token_lifetime: false });
    for (const [is_first_party, organization_usage, refresh_token] of [[true, 'allow', undefined], [false, 'allow', rotating(0)], [true, 'deny', rotating(30)]] as const) {
      web.push(await createWebApp(s, { is_first_party, organization_usage, ...(refresh_token && { refresh_token }) }));
    }
    // the third "M2M" client is a web app without client_credentials: refused by grant type
    m2m.push({ client_id: web[0].clientId, secret: web[0].secret });
    memberOrg = (await api('POST', '/organizations', { name: `members-${uniq()}` })).id;
    otherOrg = (await api('POST', '/organizations', { name: `others-${uniq()}` })).id;
    for (let i = 0; i < 2; i++) {
      const email = `explain-${i}-${uniq()}@example.com`;
      const id = await createUser(s, email);
      await api('POST', `/organizations/${memberOrg}/members`, { members: [id] });
      const browser = new Browser(s);
      const { res } = await authorize(s, browser, { response_type: 'code', client_id: web[0].clientId, redirect_uri: CALLBACK, scope: 'openid', state: 's' }, { email });
      expect(callbackParams(res.location).code).toBeDefined();
      users.push({ id, email, browser });
    }
    blockedUser = await createUser(s, `explain-blocked-${uniq()}@example.com`);
    expect((await s.api('PATCH', `/users/${encodeURIComponent(blockedUser)}`, { blocked: true })).status).toBe(200);
  });
  afterAll(async () => { await s?.close(); });

  it(`client_credentials: ${CC_RUNS} random configurations, explain = /oauth/token (a sample over a real socket)`, async () => {
    let run = 0;
    const seen = { issued: 0, refused: new Set<string>() };
    await fc.assert(fc.asyncProperty(
      fc.record({
        api: apiArb, client: fc.constantFrom(0, 0, 1, 1, 2), grant: grantArb, defaultGrant: grantArb,
        usage: fc.constantFrom(undefined, 'deny', 'allow', 'require'), anyOrg: fc.boolean(), associate: fc.boolean(),
        audience: audienceArb, requested: requestedArb, org: fc.constantFrom(undefined, undefined, undefined, undefined, 'member', 'other', 'unknown'),
      }),
      async (c) => {
        const identifier = await createCaseApi(c.api);
        const client = m2m[c.client];
        if (c.grant) {
          const id = await createGrant({
            client_id: client.client_id, audience: identifier, ...(c.usage && { organization_usage: c.usage }), ...(c.anyOrg && { allow_any_organization: true }),
          }, c.grant, c.api.scopes);
          if (c.associate && c.usage && c.usage !== 'deny') await api('POST', `/organizations/${memberOrg}/client-grants`, { grant_id: id });
        }
        if (c.defaultGrant) await createGrant({ default_for: 'third_party_clients', audience: identifier }, c.defaultGrant, c.api.scopes);
        const audience = c.audience === 'api' ? identifier : c.audience === 'unknown' ? `https://unknown-${uniq()}.example` : undefined;
        const organization = c.org === 'member' ? memberOrg : c.org === 'other' ? otherOrg : c.org === 'unknown' ? `org_${uniq()}` : undefined;
        const ex = await s.t.services.explainer.explain({
          client_id: client.client_id, grant_type: 'client_credentials',
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }), ...(organization && { organization }),
        });
        const params: Record<string, string> = {
          grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.secret,
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }), ...(organization && { organization }),
        };
        const out = run++ < HTTP_SAMPLE ? await overHttp(params) : await inProcess(params);
        expectAgreement(ex, out, c);
        if (ex.issued) seen.issued++;
        else seen.refused.add(ex.rule as string);
      },
    ), { numRuns: CC_RUNS });
    // the generator reaches every kind of answer
    expect(seen.issued).toBeGreaterThan(CC_RUNS / 50);
    expect([...seen.refused].sort()).toEqual(expect.arrayContaining(['audience', 'grant_type', 'no_client_grant', 'not_in_client_grant', 'organization_usage', 'subject_type_policy']));
  }, 600_000);

  it(`a user at /authorize: ${USER_RUNS} random configurations, explain = the login's answer and the code exchange`, async () => {
    const seen = { issued: 0, consent: 0, refused: new Set<string>(), rules: new Set<string>() };
    await fc.assert(fc.asyncProperty(
      fc.record({ ...userCaseArb, audience: audienceArb, requested: requestedArb, org: fc.constantFrom(undefined, undefined, 'member', 'other', 'unknown') }),
      async (c) => {
        const { identifier, client, user } = await configureUser(c);
        const audience = c.audience === 'api' ? identifier : c.audience === 'unknown' ? `https://unknown-${uniq()}.example` : undefined;
        const organization = c.org === 'member' ? memberOrg : c.org === 'other' ? otherOrg : c.org === 'unknown' ? `org_${uniq()}` : undefined;
        const ex = await s.t.services.explainer.explain({
          client_id: client.clientId, user_id: user.id, grant_type: 'authorization_code',
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }), ...(organization && { organization }),
        });
        const query = {
          response_type: 'code', client_id: client.clientId, redirect_uri: CALLBACK, state: 'st', prompt: 'none',
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }), ...(organization && { organization }),
        };
        const back = callbackParams((await user.browser.get(`/authorize?${new URLSearchParams(query)}`)).location);
        const why = JSON.stringify({ c, ex, back });
        if (back.error) {
          if (ex.issued) {
            // decided in favour, but the user would be asked first: prompt=none cannot ask
            expect(ex.consent, why).toBe('required');
            expect(back.error, why).toBe('consent_required');
            seen.consent++;
          } else {
            expect(back.error, why).toBe(ex.error);
            expect(back.error_description, why).toBe(ex.error_description);
            seen.refused.add(ex.rule as string);
          }
          return;
        }
        expect(ex.consent, why).not.toBe('required');
        const out = await inProcess({ grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.secret, code: back.code, redirect_uri: CALLBACK });
        expectAgreement(ex, out, { c, back });
        seen.issued++;
        for (const v of ex.scopes) if (v.granted) seen.rules.add(v.rule);
      },
    ), { numRuns: USER_RUNS });
    expect(seen.issued).toBeGreaterThan(USER_RUNS / 20);
    expect(seen.consent).toBeGreaterThan(0);
    expect([...seen.refused]).toEqual(expect.arrayContaining(['audience', 'no_client_grant', 'organization_usage', 'subject_type_policy']));
    expect(seen.rules.size).toBeGreaterThan(0); // granted scopes were compared, not only refusals
  }, 600_000);
  it(`the password and password-realm grants: ${PASSWORD_RUNS} random configurations and realms, explain = /oauth/token`, async () => {
    let issued = 0;
    const refused = new Set<string>();
    await fc.assert(fc.asyncProperty(
      fc.record({
        ...userCaseArb, audience: audienceArb, requested: requestedArb, grantType: fc.constantFrom('password', REALM, REALM),
        realm: fc.constantFrom(CONNECTION, CONNECTION, CONNECTION, 'Other-Connection', CONNECTION.toLowerCase()),
      }),
      async (c) => {
        const { identifier, client, user } = await configureUser(c);
        const audience = c.audience === 'api' ? identifier : c.audience === 'unknown' ? `https://unknown-${uniq()}.example` : undefined;
        const realm: Record<string, string> = c.grantType === REALM ? { realm: c.realm } : {};
        const ex = await s.t.services.explainer.explain({
          client_id: client.clientId, user_id: user.id, grant_type: c.grantType as 'password', ...realm,
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }),
        });
        const out = await inProcess({
          grant_type: c.grantType, client_id: client.clientId, client_secret: client.secret, username: user.email, password: PASSWORD, ...realm,
          ...(audience !== undefined && { audience }), ...(c.requested !== undefined && { scope: c.requested }),
        });
        expectAgreement(ex, out, c);
        if (ex.issued) issued++;
        else refused.add(ex.rule as string);
      },
    ), { numRuns: PASSWORD_RUNS });
    expect(issued).toBeGreaterThan(0);
    expect([...refused]).toContain('realm');
  }, 600_000);

  it(`the refresh_token grant: ${REFRESH_RUNS} random configurations with ${TOKENS_PER_CASE} refresh tokens each (states, scopes), explain = /oauth/token`, async () => {
    const seen = { issued: 0, refused: new Set<string>(), reasons: new Set<string>() };
    const refreshTokens = s.t.services.userFlows.refreshTokens;
    const tokenArb = fc.record({
      audience: fc.constantFrom('api', 'api', 'api', 'api', 'api', 'none', 'unknown'),
      issuedWith: fc.subarray([...POOL, ...EXTRA]), requested: requestedArb, org: fc.constantFrom(undefined, undefined, 'member', 'other'), mfa: fc.boolean(),
      state: fc.constantFrom('live', 'live', 'live', 'live', 'live', 'revoked', 'expired', 'spent', 'other-client', 'blocked-user'),
    });
    await fc.assert(fc.asyncProperty(
      fc.record({ ...userCaseArb, tokens: fc.array(tokenArb, { minLength: TOKENS_PER_CASE, maxLength: TOKENS_PER_CASE }) }),
      async (c) => {
        // one configuration (the cost of a case), several refresh tokens against it
        const { identifier, client, user } = await configureUser(c);
        const owner = (await s.t.services.directory.client(client.clientId))!.client;
        for (const t of c.tokens) {
          const grant = {
            clientId: client.clientId, userId: t.state === 'blocked-user' ? blockedUser : user.id,
            audience: t.audience === 'api' ? identifier : t.audience === 'unknown' ? `https://unknown-${uniq()}.example` : undefined,
            scopes: t.issuedWith, authTime: s.clock.now(), origin: 'authorization_code',
            ...(t.org && { orgId: t.org === 'member' ? memberOrg : otherOrg }), ...(t.mfa && { amr: ['mfa'] }),
          };
          const family = t.state === 'expired' ? { id: `fam${uniq()}`, expiresAt: s.clock.now() - 1 } : undefined;
          const { token, familyId } = await refreshTokens.issue(owner, grant, family);
          if (t.state === 'revoked') await refreshTokens.revokeFamily(familyId);
          if (t.state === 'spent') expect(await s.t.services.store.refreshTokens.markUsed((await refreshTokens.current(familyId))!.id, s.clock.now())).toBe(true);
          const asker = t.state === 'other-client' ? web[(c.client + 1) % web.length] : client;
          const scope: Record<string, string> = t.requested !== undefined ? { scope: t.requested } : {};
          const ex = await s.t.services.explainer.explain({ client_id: asker.clientId, grant_type: 'refresh_token', refresh_token_id: familyId, ...scope });
          const out = await inProcess({ grant_type: 'refresh_token', client_id: asker.clientId, client_secret: asker.secret, refresh_token: token, ...scope });
          const why = JSON.stringify({ c, t, ex });
          expectAgreement(ex, out, { c, t });
          expect(ex.refresh_token?.id).toBe(familyId);
          if (ex.issued) seen.issued++;
          else seen.refused.add(ex.rule as string);
          if (ex.reason) seen.reasons.add(ex.reason);
          // the reason names the state the token was put in (its state is checked before the scope)
          const reason = { revoked: 'revoked', expired: 'expired', 'other-client': 'other client' }[t.state as string];
          if (reason) expect(ex.reason, why).toBe(reason);
          if (t.state === 'spent' && c.client === 1 && ex.rule !== 'refresh_scope') expect(ex.reason, why).toMatch(/^reuse of a rotated refresh token/);
        }
      },
    ), { numRuns: REFRESH_RUNS });
    expect(seen.issued).toBeGreaterThan(REFRESH_RUNS / 10);
    expect([...seen.refused]).toEqual(expect.arrayContaining(['refresh_token', 'refresh_scope', 'audience', 'user_blocked']));
    expect([...seen.reasons]).toEqual(expect.arrayContaining(['revoked', 'expired', 'other client']));
  }, 600_000);
});
