import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, createApi, createM2mClient } from './helpers/management';

const GRANT_NOT_FOUND = { statusCode: 404, error: 'Not Found', message: 'The client grant does not exist.', errorCode: 'inexistent_client_grant' };

eachDialect('management: client grants', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const scopes = [{ value: 'read:orders' }, { value: 'write:orders' }, { value: 'create:bar' }];
  const setup = async () => ({ api: await createApi(s, { scopes }), client: await createM2mClient(s) });

  describe('create', () => {
    it('201; subject_type defaults to "client" and is echoed', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'] });
      expect(r.status).toBe(201);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.body).toEqual({ id: r.body.id, client_id: client.client_id, audience: api.identifier, scope: ['read:orders'], subject_type: 'client' });
      expect(r.body.id).toMatch(/^cgr_[A-Za-z0-9]{16}$/);
      expect((await s.api('GET', `/client-grants/${r.body.id}`)).body).toEqual(r.body);
    });

    it('the full recorded body (subject_type user, authorization_details_types) round-trips', async () => {
      const { api, client } = await setup();
      const body = { client_id: client.client_id, audience: api.identifier, scope: ['create:bar'], subject_type: 'user', authorization_details_types: ['payment', 'shipping'] };
      const r = await s.api('POST', '/client-grants', body);
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ id: r.body.id, ...body });
    });

    it('organization_usage and allow_any_organization are stored and returned', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'], allow_any_organization: true, organization_usage: 'allow' });
      expect(r.body).toEqual({ id: r.body.id, client_id: client.client_id, audience: api.identifier, scope: ['read:orders'], organization_usage: 'allow', allow_any_organization: true, subject_type: 'client' });
    });

    it('allow_all_scopes: true hides scope', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, allow_all_scopes: true });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ id: r.body.id, client_id: client.client_id, audience: api.identifier, allow_all_scopes: true, subject_type: 'client' });
    });

    it('allow_all_scopes with a non-empty scope → 400', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, allow_all_scopes: true, scope: ['read:orders'] });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'scope must be empty when allow_all_scopes is true' on property scope."));
    });

    it('a scope the API does not define → 400', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders', 'delete:everything'] });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(`Payload validation error: 'Scopes not defined on the resource server ${api.identifier}: delete:everything' on property scope.`));
    });

    it('unknown client → 404 "Client not found"', async () => {
      const { api } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: 'nope', audience: api.identifier });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Client not found', errorCode: 'inexistent_client' });
    });

    it('unknown API → 404 "No resource with identifier <aud>"', async () => {
      const { client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: 'https://nowhere.example.com' });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No resource with identifier https://nowhere.example.com', errorCode: 'inexistent_resource_server' });
    });

    it('a duplicate (client, audience, subject_type) → 409; another subject_type is fine', async () => {
      const { api, client } = await setup();
      const body = { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'] };
      expect((await s.api('POST', '/client-grants', body)).status).toBe(201);
      const dup = await s.api('POST', '/client-grants', { ...body, scope: [] });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'A client grant for this client, audience and subject type already exists.', errorCode: 'client_grant_conflict' });
      expect((await s.api('POST', '/client-grants', { ...body, subject_type: 'user' })).status).toBe(201);
    });

    it('concurrent duplicate grants: exactly one 201, the rest 409', async () => {
      const { api, client } = await setup();
      const results = await Promise.all(Array.from({ length: 5 }, () => s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'] })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    });

    it.each([
      [{ scope: ['read:orders'] }, "Payload validation error: 'Missing required property: audience'."],
      [{ audience: 'x', subject_type: 'robot' }, "Payload validation error: 'No enum match for: \"robot\"' on property subject_type (The type of application access the client grant allows.)."],
      [{ audience: 'x', scope: 'read:orders' }, "Payload validation error: 'Expected type array but found type string' on property scope (Scopes allowed for this client grant.)."],
      [{ audience: 'x', scope: [''] }, "Payload validation error: 'String is too short (0 chars), minimum 1' on property scope[0]."],
      [{ audience: 'x', foo: 1 }, "Payload validation error: 'Additional properties not allowed: foo'."],
      [{ audience: '' }, "Payload validation error: 'String is too short (0 chars), minimum 1' on property audience (The audience (API identifier) of this client grant)."],
    ])('invalid body %j → 400', async (body, message) => {
      const r = await s.api('POST', '/client-grants', { client_id: 'c', ...body });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(message));
    });

    it('default_for third_party_clients: no client_id; one per (audience, subject_type); not on system APIs', async () => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { default_for: 'third_party_clients', audience: api.identifier, scope: ['read:orders'] });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ id: r.body.id, default_for: 'third_party_clients', audience: api.identifier, scope: ['read:orders'], subject_type: 'client' });
      const dup = await s.api('POST', '/client-grants', { default_for: 'third_party_clients', audience: api.identifier });
      expect(dup.status).toBe(409);
      expect((await s.api('GET', `/client-grants?default_for=third_party_clients&audience=${encodeURIComponent(api.identifier)}`)).body).toEqual([r.body]);
      const both = await s.api('POST', '/client-grants', { client_id: client.client_id, default_for: 'third_party_clients', audience: api.identifier });
      expect(both.status).toBe(400);
      expect(both.body).toEqual(badRequest("Payload validation error: 'Exactly one of client_id or default_for must be provided'."));
      const system = await s.api('POST', '/client-grants', { default_for: 'third_party_clients', audience: MGMT_AUDIENCE });
      expect(system.status).toBe(400);
      expect(system.body.message).toBe('Client grants for this API cannot be created for third-party clients.');
    });

    it('neither client_id nor default_for → 400', async () => {
      const { api } = await setup();
      const r = await s.api('POST', '/client-grants', { audience: api.identifier });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Exactly one of client_id or default_for must be provided'."));
    });
  });

  describe('patch and delete', () => {
    const grant = async (extra: Record<string, unknown> = {}) => {
      const { api, client } = await setup();
      const r = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'], ...extra });
      expect(r.status).toBe(201);
      return r.body as Record<string, any>;
    };

    it('scope is replaced whole (200)', async () => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { scope: ['write:orders', 'create:bar'] });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ...g, scope: ['write:orders', 'create:bar'] });
      expect((await s.api('GET', `/client-grants/${g.id}`)).body).toEqual(r.body);
    });

    it('scope: null removes it', async () => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { scope: null });
      expect(r.status).toBe(200);
      const { scope: _s, ...rest } = g;
      expect(r.body).toEqual(rest);
    });

    it('allow_all_scopes: true via PATCH with scope [] hides scope; a PATCH adding scope while allow_all_scopes → 400', async () => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { allow_all_scopes: true, scope: [] });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: g.id, client_id: g.client_id, audience: g.audience, subject_type: 'client', allow_all_scopes: true });
      const bad = await s.api('PATCH', `/client-grants/${g.id}`, { scope: ['read:orders'] });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual(badRequest("Payload validation error: 'scope must be empty when allow_all_scopes is true' on property scope."));
    });

    it('PATCH {allow_all_scopes: true} alone on a grant with scopes → 200 and scope is hidden (recorded Auth0 behaviour)', async () => {
      const g = await grant({ subject_type: 'user', authorization_details_types: ['payment', 'shipping'] });
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { allow_all_scopes: true, authorization_details_types: ['payment'] });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: g.id, client_id: g.client_id, audience: g.audience, subject_type: 'user', authorization_details_types: ['payment'], allow_all_scopes: true });
      const back = await s.api('PATCH', `/client-grants/${g.id}`, { allow_all_scopes: false, scope: ['write:orders'] });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ allow_all_scopes: false, scope: ['write:orders'] });
    });

    it('a scope later removed from the API does not block unrelated PATCHes of the grant', async () => {
      const { api, client } = await setup();
      const g = (await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders', 'write:orders'] })).body;
      expect((await s.api('PATCH', `/resource-servers/${api.id}`, { scopes: [{ value: 'read:orders' }] })).status).toBe(200);
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { organization_usage: 'allow' });
      expect(r.status).toBe(200);
      expect(r.body.organization_usage).toBe('allow');
      const stale = await s.api('PATCH', `/client-grants/${g.id}`, { scope: ['read:orders', 'write:orders'] });
      expect(stale.status).toBe(400);
      expect((await s.api('PATCH', `/client-grants/${g.id}`, { scope: ['read:orders'] })).status).toBe(200);
    });

    it('organization_usage and allow_any_organization: null removes them', async () => {
      const g = await grant({ organization_usage: 'require', allow_any_organization: true });
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { organization_usage: null, allow_any_organization: null });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: g.id, client_id: g.client_id, audience: g.audience, scope: ['read:orders'], subject_type: 'client' });
    });

    it.each(['client_id', 'audience', 'subject_type', 'id'])('%s is immutable → 400', async (key) => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { [key]: key === 'subject_type' ? 'user' : 'other' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(`Payload validation error: 'Additional properties not allowed: ${key}'.`));
      expect((await s.api('GET', `/client-grants/${g.id}`)).body).toEqual(g);
    });

    it('an empty PATCH body → 400 minProperties', async () => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, {});
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Too few properties defined (0), minimum 1'."));
    });

    it('PATCH with an undefined scope → 400 and nothing changes', async () => {
      const g = await grant();
      const r = await s.api('PATCH', `/client-grants/${g.id}`, { scope: ['read:orders', 'nope'] });
      expect(r.status).toBe(400);
      expect((await s.api('GET', `/client-grants/${g.id}`)).body).toEqual(g);
    });

    it('DELETE → 204, then 404 for GET, PATCH and DELETE', async () => {
      const g = await grant();
      const r = await s.api('DELETE', `/client-grants/${g.id}`);
      expect(r.status).toBe(204);
      expect(r.body).toBeUndefined();
      expect((await s.api('GET', `/client-grants/${g.id}`)).body).toEqual(GRANT_NOT_FOUND);
      expect((await s.api('PATCH', `/client-grants/${g.id}`, { scope: [] })).body).toEqual(GRANT_NOT_FOUND);
      const again = await s.api('DELETE', `/client-grants/${g.id}`);
      expect(again.status).toBe(404);
      expect(again.body).toEqual(GRANT_NOT_FOUND);
    });

    it('deleting an API removes its grants', async () => {
      const g = await grant();
      expect((await s.api('DELETE', `/resource-servers/${encodeURIComponent(g.audience)}`)).status).toBe(204);
      expect((await s.api('GET', `/client-grants/${g.id}`)).status).toBe(404);
      expect((await s.api('GET', `/client-grants?audience=${encodeURIComponent(g.audience)}`)).body).toEqual([]);
    });

    it('a grant lets its client get a token; deleting it stops that', async () => {
      const { api, client } = await setup();
      const g = await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'] });
      const params = { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience: api.identifier };
      const ok = await s.token(params);
      expect(ok.status).toBe(200);
      expect(ok.body.scope).toBe('read:orders');
      await s.api('DELETE', `/client-grants/${g.body.id}`);
      expect((await s.token(params)).status).toBe(403);
    });
  });
});
