import { randomUUID } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, PUBLIC_URL, eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { uniq } from '../helpers/management';
import { ScopeTokens, forbidden } from './scope-tokens';

/**
 * Field-level scope rules of the Management API (the field half of the route × field × scope table), the
 * client views by read scope, and the privilege escalation of issue 9 as a named case.
 */
const CLIENT_UPDATE_SCOPES = ['update:clients', 'update:client_keys', 'update:client_credentials', 'update:client_token_vault_privileged_access'];
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const anyOf = (scopes: string[]) => forbidden(`Insufficient scope, expected any of: ${scopes.join(',')}`);

let attackerPem: string;
let attackerKey: CryptoKey;
const newKey = () => ({ client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: attackerPem }] } } });

/** PATCH /clients/{id}: field → the scopes that must all be held to change it (the first one names the 403). */
const CLIENT_PATCH: Array<[field: string, body: () => Record<string, unknown>, needs: string[]]> = [
  ['name', () => ({ name: 'renamed' }), ['update:clients']],
  ['callbacks', () => ({ callbacks: ['https://attacker.example/cb'] }), ['update:clients']],
  ['token_endpoint_auth_method', () => ({ token_endpoint_auth_method: 'client_secret_basic' }), ['update:clients']],
  ['jwt_configuration.alg', () => ({ jwt_configuration: { alg: 'RS256' } }), ['update:clients']],
  ['client_secret', () => ({ client_secret: `would-be-${uniq()}-0123456789` }), ['update:client_keys']],
  ['jwt_configuration.secret', () => ({ jwt_configuration: { secret: 'shared-secret' } }), ['update:client_keys']],
  ['encryption_key', () => ({ encryption_key: { pub: 'x' } }), ['update:client_keys']],
  ['client_authentication_methods (cleared)', () => ({ client_authentication_methods: null }), ['update:client_credentials']],
  ['a new private_key_jwt credential', newKey, ['update:client_credentials', 'create:client_credentials']],
];

eachDialect('Management API field-level scopes', (dialect) => {
  let s: TestServer;
  let tokens: ScopeTokens;
  beforeAll(async () => {
    s = await startTessera(dialect);
    tokens = new ScopeTokens(s);
    const pair = await generateKeyPair('RS256', { extractable: true });
    attackerKey = pair.privateKey as CryptoKey;
    attackerPem = await exportSPKI(pair.publicKey);
  });
  afterAll(async () => { await s.close(); });

  /** Fixture: a confidential client with a description and a callback (read back whole with the admin token). */
  async function victim(): Promise<Record<string, any>> {
    const r = await s.api('POST', '/clients', { name: `victim-${uniq()}`, description: 'payroll', app_type: 'regular_web', callbacks: ['https://app.example/cb'] });
    expect(r.status).toBe(201);
    return r.body;
  }
  const read = async (id: string) => (await s.api('GET', `/clients/${id}`)).body;

  describe('PATCH /clients/{id}', () => {
    describe.each(CLIENT_PATCH)('%s', (_field, body, needs) => {
      it('403 and unchanged with each other client update scope alone', async () => {
        const c = await victim();
        const before = await read(c.client_id);
        for (const scope of [...CLIENT_UPDATE_SCOPES, 'create:client_credentials'].filter((x) => !needs.includes(x) || needs.length > 1)) {
          const r = await s.api('PATCH', `/clients/${c.client_id}`, body(), { token: await tokens.get([scope]) });
          expect(r.status, scope).toBe(403);
          expect(r.body.errorCode).toBe('insufficient_scope');
        }
        expect(await read(c.client_id)).toEqual(before);
      });

      it.each(needs)('403 naming %s, and unchanged, for a token holding every other scope', async (missing) => {
        const c = await victim();
        const before = await read(c.client_id);
        const r = await s.api('PATCH', `/clients/${c.client_id}`, body(), { token: await tokens.allBut([missing]) });
        expect(r.status).toBe(403);
        expect(r.body).toEqual(anyOf([missing]));
        expect(await read(c.client_id)).toEqual(before);
      });

      it(`200 and changed with ${needs.join(' + ')}`, async () => {
        const c = await victim();
        const before = await read(c.client_id);
        const r = await s.api('PATCH', `/clients/${c.client_id}`, body(), { token: await tokens.get(needs) });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        if (needs[0] !== 'update:client_credentials' || needs.length > 1) expect(await read(c.client_id)).not.toEqual(before);
      });
    });

    it('a body mixing fields is refused whole, naming every missing scope', async () => {
      const c = await victim();
      const before = await read(c.client_id);
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { name: 'renamed', client_secret: 'x'.repeat(40), ...newKey() }, { token: await tokens.get(['update:clients']) });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(forbidden('Insufficient scope, expected all of: update:client_keys,update:client_credentials,create:client_credentials'));
      expect(await read(c.client_id)).toEqual(before);
    });
  });

  describe('PATCH /clients/{id}: nested and referenced fields', () => {
    it('a nested object is split by field: jwt_configuration {alg, secret} needs update:clients and update:client_keys', async () => {
      const c = await victim();
      const before = await read(c.client_id);
      const body = { jwt_configuration: { alg: 'RS256', secret: 'shared-secret' } };
      const r = await s.api('PATCH', `/clients/${c.client_id}`, body, { token: await tokens.get(['update:client_keys']) });
      expect(r.body).toEqual(anyOf(['update:clients']));
      expect(await read(c.client_id)).toEqual(before);
      expect((await s.api('PATCH', `/clients/${c.client_id}`, body, { token: await tokens.get(['update:clients', 'update:client_keys']) })).status).toBe(200);
    });

    it('keeping an existing credential by id needs update:client_credentials only', async () => {
      const c = await victim();
      const added = await s.api('PATCH', `/clients/${c.client_id}`, newKey());
      const ids = added.body.client_authentication_methods.private_key_jwt.credentials as Array<{ id: string }>;
      const body = { client_authentication_methods: { private_key_jwt: { credentials: ids } } };
      const r = await s.api('PATCH', `/clients/${c.client_id}`, body, { token: await tokens.get(['update:client_credentials']) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.client_authentication_methods.private_key_jwt.credentials).toEqual(ids);
    });
  });

  describe('POST /clients', () => {
    it('a client with a private_key_jwt credential needs create:client_credentials as well; none is created without it', async () => {
      const name = `pkjwt-${uniq()}`;
      const r = await s.api('POST', '/clients', { name, ...newKey() }, { token: await tokens.get(['create:clients']) });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(anyOf(['create:client_credentials']));
      const all = (await s.api('GET', '/clients')).body as Array<{ name: string }>;
      expect(all.some((c) => c.name === name)).toBe(false);
      const ok = await s.api('POST', '/clients', { name, ...newKey() }, { token: await tokens.get(['create:clients', 'create:client_credentials']) });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      expect(ok.body.client_authentication_methods.private_key_jwt.credentials).toHaveLength(1);
    });
  });

  describe('PATCH /users/{id}', () => {
    let userId: string;
    const path = () => `/users/${encodeURIComponent(userId)}`;
    beforeAll(async () => {
      const r = await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: `u-${uniq()}@example.com`, password: 'Corr3ct-Horse', name: 'Ada' });
      expect(r.status).toBe(201);
      userId = r.body.user_id;
    });

    it.each(['update:users_app_metadata', 'update:users'])('app_metadata with %s alone: 200', async (scope) => {
      const r = await s.api('PATCH', path(), { app_metadata: { plan: scope } }, { token: await tokens.get([scope]) });
      expect(r.status).toBe(200);
      expect(r.body.app_metadata).toEqual({ plan: scope });
    });

    it.each([[{ name: 'Mallory' }], [{ app_metadata: { plan: 'free' }, name: 'Mallory' }], [{ user_metadata: { a: 'b' } }]])(
      'update:users_app_metadata cannot change %j (403, unchanged)', async (body) => {
        const before = (await s.api('GET', path())).body;
        const r = await s.api('PATCH', path(), body, { token: await tokens.get(['update:users_app_metadata']) });
        expect(r.status).toBe(403);
        expect(r.body).toEqual(anyOf(['update:users']));
        expect((await s.api('GET', path())).body).toEqual(before);
      });
  });

  describe('client views by read scope', () => {
    let c: Record<string, any>;
    beforeAll(async () => {
      c = await victim();
      expect((await s.api('PATCH', `/clients/${c.client_id}`, newKey())).status).toBe(200);
    });
    const get = async (scope: string, query = '') => s.api('GET', `/clients/${c.client_id}${query}`, undefined, { token: await tokens.get([scope]) });

    it('read:client_summary: only client_id, name, app_type and description', async () => {
      const r = await get('read:client_summary');
      expect(r.body).toEqual({ client_id: c.client_id, name: c.name, app_type: 'regular_web', description: 'payroll' });
    });

    it('read:client_summary: the list shows the summary of every client, and fields= cannot widen it', async () => {
      const list = await s.api('GET', '/clients?per_page=100', undefined, { token: await tokens.get(['read:client_summary']) });
      for (const item of list.body) expect(Object.keys(item).every((k) => ['client_id', 'name', 'app_type', 'description'].includes(k)), JSON.stringify(item)).toBe(true);
      expect((await get('read:client_summary', '?fields=client_secret,callbacks,client_authentication_methods')).body).toEqual({});
    });

    it('read:client_credentials: the summary and client_authentication_methods, never the secret', async () => {
      const r = await get('read:client_credentials');
      expect(Object.keys(r.body).sort()).toEqual(['app_type', 'client_authentication_methods', 'client_id', 'description', 'name']);
    });

    it('read:clients: the whole client without its secret; read:client_keys: with it', async () => {
      const r = await get('read:clients');
      expect(r.body.callbacks).toEqual(['https://app.example/cb']);
      expect(r.body).not.toHaveProperty('client_secret');
      expect((await get('read:client_keys')).body.client_secret).toBe(c.client_secret);
    });
  });

  describe('escalation (issue 9): a token with only update:clients against the bootstrap admin', () => {
    const adminToken = (secret: string) => s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: secret, audience: MGMT_AUDIENCE });

    it('cannot set the admin client_secret, and the would-be secret gets no token', async () => {
      const wouldBe = `attacker-${uniq()}-0123456789abcdef`;
      const r = await s.api('PATCH', `/clients/${ADMIN_ID}`, { client_secret: wouldBe }, { token: await tokens.get(['update:clients']) });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(anyOf(['update:client_keys']));
      expect((await adminToken(wouldBe)).status).toBe(401);
      expect((await adminToken(ADMIN_SECRET)).status).toBe(200);
    });

    it('cannot rotate the admin secret', async () => {
      const r = await s.api('POST', `/clients/${ADMIN_ID}/rotate-secret`, undefined, { token: await tokens.get(['update:clients']) });
      expect(r.status).toBe(403);
      expect((await adminToken(ADMIN_SECRET)).status).toBe(200);
    });

    it('cannot add a private_key_jwt credential, and an assertion signed with that key gets no token', async () => {
      const r = await s.api('PATCH', `/clients/${ADMIN_ID}`, newKey(), { token: await tokens.get(['update:clients']) });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(forbidden('Insufficient scope, expected all of: update:client_credentials,create:client_credentials'));
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(ADMIN_ID).setSubject(ADMIN_ID)
        .setAudience(`${PUBLIC_URL}/`).setJti(randomUUID()).setIssuedAt(now).setExpirationTime(now + 60).sign(attackerKey);
      const t = await s.token({ grant_type: 'client_credentials', audience: MGMT_AUDIENCE, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
      expect(t.status).toBe(401);
      expect(t.body).not.toHaveProperty('access_token');
      expect((await read(ADMIN_ID)).client_authentication_methods).toBeUndefined();
    });
  });
});
