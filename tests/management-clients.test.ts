import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, CLIENT_NOT_FOUND, createApi, managementToken, rsaPublicPem, uniq } from './helpers/management';

/** Contract §3: the real create response for a non_interactive client_secret_post client. */
const CREATE_DEFAULTS = {
  is_first_party: true,
  is_token_endpoint_ip_header_trusted: false,
  oidc_conformant: false,
  jwt_configuration: { secret_encoded: false, lifetime_in_seconds: 36000 },
  sso_disabled: false,
  cross_origin_authentication: false,
  grant_types: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
  custom_login_page_on: true,
  refresh_token: {
    rotation_type: 'non-rotating', expiration_type: 'non-expiring', leeway: 0, token_lifetime: 31557600,
    infinite_token_lifetime: true, infinite_idle_token_lifetime: true, idle_token_lifetime: 2592000,
  },
};

eachDialect('management: clients', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const create = async (body: Record<string, unknown> = {}) => {
    const r = await s.api('POST', '/clients', { name: `client-${uniq()}`, app_type: 'non_interactive', ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as Record<string, any>;
  };
  const tokenFor = (client_id: string, client_secret: string, audience: string) =>
    s.token({ grant_type: 'client_credentials', client_id, client_secret, audience });

  describe('create', () => {
    it('201 with the documented defaults, a 32-char client_id and a 64-char secret', async () => {
      const name = `svc-${uniq()}`;
      const r = await s.api('POST', '/clients', { name, app_type: 'non_interactive', token_endpoint_auth_method: 'client_secret_post' });
      expect(r.status).toBe(201);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.body).toEqual({
        name, client_id: r.body.client_id, client_secret: r.body.client_secret, app_type: 'non_interactive',
        token_endpoint_auth_method: 'client_secret_post', ...CREATE_DEFAULTS,
      });
      expect(r.body.client_id).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(r.body.client_secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    });

    it('jwt_configuration.alg is echoed; lifetime_in_seconds only when sent', async () => {
      expect((await create({ jwt_configuration: { alg: 'RS256' } })).jwt_configuration).toEqual({ secret_encoded: false, alg: 'RS256' });
      expect((await create({ jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 600 } })).jwt_configuration)
        .toEqual({ secret_encoded: false, alg: 'RS256', lifetime_in_seconds: 600 });
    });

    it.each([['non_interactive', 'client_secret_post'], ['regular_web', 'client_secret_post'], ['spa', 'none'], ['native', 'none']])(
      'app_type %s without token_endpoint_auth_method gets %s', async (app_type, method) => {
        expect((await create({ app_type })).token_endpoint_auth_method).toBe(method);
      });

    it('the explicit grant_types are stored', async () => {
      const c = await create({ grant_types: ['client_credentials'] });
      expect(c.grant_types).toEqual(['client_credentials']);
      expect((await s.api('GET', `/clients/${c.client_id}`)).body.grant_types).toEqual(['client_credentials']);
    });

    it.each([
      [{ app_type: 'non_interactive' }, "Payload validation error: 'Missing required property: name'."],
      [{ name: 'a<b' }, "Payload validation error: 'String does not match pattern ^[^<>]+$: a<b' on property name (Name of this client (min length: 1 character, does not allow `<` or `>`).)."],
      [{ name: 'x', app_type: 'robot' }, "Payload validation error: 'No enum match for: \"robot\"' on property app_type (The type of application this client represents)."],
      [{ name: 'x', client_secret: 'mine' }, "Payload validation error: 'Additional properties not allowed: client_secret'."],
      [{ name: 'x', grant_types: ['magic'] }, "Payload validation error: 'No enum match for: \"magic\"' on property grant_types[0]."],
      [{ name: 'x', jwt_configuration: { alg: 'none' } }, "Payload validation error: 'No enum match for: \"none\"' on property jwt_configuration.alg."],
    ])('invalid create %j → 400', async (body, message) => {
      const r = await s.api('POST', '/clients', body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(message));
    });
  });

  describe('get, patch, delete', () => {
    it('GET returns the stored client (with the secret for an admin holding read:client_keys)', async () => {
      const c = await create();
      const r = await s.api('GET', `/clients/${c.client_id}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(c);
    });

    it.each(['GET', 'PATCH', 'DELETE'])('%s of an unknown client → 404 inexistent_client', async (method) => {
      const r = await s.api(method, '/clients/hwfO6jMNCVy4N1LghfAu64DlVmNmiRcH', method === 'PATCH' ? { name: 'x' } : undefined);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(CLIENT_NOT_FOUND);
    });

    it('PATCH jwt_configuration merges key by key', async () => {
      const c = await create({ jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000 } });
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { jwt_configuration: { lifetime_in_seconds: 600 } });
      expect(r.status).toBe(200);
      expect(r.body.jwt_configuration).toEqual({ secret_encoded: false, alg: 'RS256', lifetime_in_seconds: 600 });
    });

    it('PATCH with the a0deploy body on a second run → 200 and the fields change', async () => {
      const c = await create();
      const body = { name: 'Orders Worker', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000 } };
      const r = await s.api('PATCH', `/clients/${c.client_id}`, body);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...c, ...body, jwt_configuration: { secret_encoded: false, alg: 'RS256', lifetime_in_seconds: 36000 } });
    });

    it('PATCH client_secret rotates it: the old one stops working at /oauth/token, the new one works', async () => {
      const api = await createApi(s);
      const c = await create({ grant_types: ['client_credentials'] });
      expect((await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: [] })).status).toBe(201);
      expect((await tokenFor(c.client_id, c.client_secret, api.identifier)).status).toBe(200);
      const secret = `rotated-${uniq()}-${uniq()}`;
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { client_secret: secret });
      expect(r.status).toBe(200);
      expect(r.body.client_secret).toBe(secret);
      const old = await tokenFor(c.client_id, c.client_secret, api.identifier);
      expect(old.status).toBe(401);
      expect(old.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
      expect((await tokenFor(c.client_id, secret, api.identifier)).status).toBe(200);
    });

    it('PATCH client_secret "" → 400', async () => {
      const c = await create();
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { client_secret: '' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'String is too short (0 chars), minimum 1' on property client_secret (The secret used to sign tokens for the client)."));
    });

    it('POST /clients/{id}/rotate-secret → 200 with a fresh 64-char secret that works', async () => {
      const api = await createApi(s);
      const c = await create({ grant_types: ['client_credentials'] });
      await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier });
      const r = await s.api('POST', `/clients/${c.client_id}/rotate-secret`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...c, client_secret: r.body.client_secret });
      expect(r.body.client_secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(r.body.client_secret).not.toBe(c.client_secret);
      expect((await tokenFor(c.client_id, c.client_secret, api.identifier)).status).toBe(401);
      expect((await tokenFor(c.client_id, r.body.client_secret, api.identifier)).status).toBe(200);
      expect((await s.api('POST', '/clients/nope/rotate-secret')).body).toEqual(CLIENT_NOT_FOUND);
    });

    it('DELETE → 204, the client is gone and its grants with it', async () => {
      const api = await createApi(s);
      const c = await create();
      const g = await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier });
      expect(g.status).toBe(201);
      const r = await s.api('DELETE', `/clients/${c.client_id}`);
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect((await s.api('GET', `/clients/${c.client_id}`)).body).toEqual(CLIENT_NOT_FOUND);
      expect((await s.api('GET', `/client-grants/${g.body.id}`)).status).toBe(404);
      expect((await s.api('GET', `/client-grants?client_id=${c.client_id}`)).body).toEqual([]);
    });
  });

  describe('client_secret visibility', () => {
    it('hidden from a caller without read:client_keys (list and get), shown with it', async () => {
      const c = await create();
      const token = await managementToken(s, ['read:clients']);
      const one = await s.api('GET', `/clients/${c.client_id}`, undefined, { token });
      expect(one.status).toBe(200);
      const { client_secret: _secret, ...withoutSecret } = c;
      expect(one.body).toEqual(withoutSecret);
      const list = await s.api('GET', '/clients?include_totals=true&per_page=100', undefined, { token });
      expect(list.status).toBe(200);
      expect(list.body.clients.length).toBeGreaterThan(1);
      for (const item of list.body.clients) expect('client_secret' in item).toBe(false);
      const keys = await managementToken(s, ['read:client_keys']);
      expect((await s.api('GET', `/clients/${c.client_id}`, undefined, { token: keys })).body.client_secret).toBe(c.client_secret);
    });

    it('a PATCH by a caller with update:clients but without read:client_keys does not echo the secret', async () => {
      const c = await create();
      const token = await managementToken(s, ['update:clients']);
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { description: 'changed' }, { token });
      expect(r.status).toBe(200);
      expect(r.body.description).toBe('changed');
      expect('client_secret' in r.body).toBe(false);
    });
  });

  describe('private_key_jwt credentials', () => {
    it('inline credentials come back as {id} only, never the PEM', async () => {
      const pem = rsaPublicPem();
      const c = await create({
        token_endpoint_auth_method: null,
        client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k1', pem }] } },
      });
      expect(c.client_authentication_methods).toEqual({ private_key_jwt: { credentials: [{ id: expect.stringMatching(/^cred_/) }] } });
      const got = await s.api('GET', `/clients/${c.client_id}`);
      for (const body of [c, got.body, (await s.api('GET', '/clients')).body]) {
        expect(JSON.stringify(body)).not.toContain('BEGIN PUBLIC KEY');
        expect(JSON.stringify(body)).not.toContain('"pem"');
        expect(JSON.stringify(body)).not.toContain('thumbprint_sha256');
      }
      expect(got.body.client_authentication_methods).toEqual(c.client_authentication_methods);
      expect('token_endpoint_auth_method' in c).toBe(false);
    });

    it('credentials without token_endpoint_auth_method leave the method unset; null clears both', async () => {
      const c = await create({ client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: rsaPublicPem() }] } } });
      expect('token_endpoint_auth_method' in c).toBe(false);
      const r = await s.api('PATCH', `/clients/${c.client_id}`, { client_authentication_methods: null, token_endpoint_auth_method: 'client_secret_post' });
      expect(r.status).toBe(200);
      expect('client_authentication_methods' in r.body).toBe(false);
      expect(r.body.token_endpoint_auth_method).toBe('client_secret_post');
    });

    it('a PATCH keeps a credential referenced by id and adds a new one', async () => {
      const c = await create({ client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: rsaPublicPem() }] } } });
      const kept = c.client_authentication_methods.private_key_jwt.credentials[0].id as string;
      const r = await s.api('PATCH', `/clients/${c.client_id}`, {
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: kept }, { credential_type: 'public_key', pem: rsaPublicPem() }] } },
      });
      expect(r.status).toBe(200);
      const ids = r.body.client_authentication_methods.private_key_jwt.credentials.map((x: { id: string }) => x.id);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toBe(kept);
    });

    it('an invalid PEM or an unknown credential id → 400', async () => {
      const r = await s.api('POST', '/clients', { name: 'x', client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: 'nope' }] } } });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Invalid PEM: expected an RSA public key or certificate' on property client_authentication_methods.private_key_jwt.credentials[0].pem."));
      const c = await create();
      const p = await s.api('PATCH', `/clients/${c.client_id}`, { client_authentication_methods: { private_key_jwt: { credentials: [{ id: 'cred_unknown' }] } } });
      expect(p.status).toBe(400);
      expect(p.body).toEqual(badRequest("Payload validation error: 'Unknown credential cred_unknown' on property client_authentication_methods.private_key_jwt.credentials[0]."));
    });
  });
});
