import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, createApi, uniq } from './helpers/management';

/**
 * Client fields the Terraform provider (go-auth0) and deploy-cli send beyond M2M basics: token_exchange,
 * skip_non_verifiable_callback_uri_confirmation_prompt, and app_type resource_server with resource_server_identifier.
 */
eachDialect('management: client fields of the Terraform provider', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const create = async (body: Record<string, unknown>) => s.api('POST', '/clients', { name: `client-${uniq()}`, ...body });

  describe('token_exchange and skip_non_verifiable_callback_uri_confirmation_prompt', () => {
    it('are stored and returned on create, read and PATCH; null removes them', async () => {
      const r = await create({
        app_type: 'native', callbacks: ['com.example.app://callback'],
        token_exchange: { allow_any_profile_of_type: ['on_behalf_of_token_exchange'] },
        skip_non_verifiable_callback_uri_confirmation_prompt: true,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.token_exchange).toEqual({ allow_any_profile_of_type: ['on_behalf_of_token_exchange'] });
      expect(r.body.skip_non_verifiable_callback_uri_confirmation_prompt).toBe(true);
      const id = r.body.client_id as string;
      expect((await s.api('GET', `/clients/${id}`)).body).toMatchObject({ token_exchange: r.body.token_exchange, skip_non_verifiable_callback_uri_confirmation_prompt: true });

      const p = await s.api('PATCH', `/clients/${id}`, { token_exchange: { allow_any_profile_of_type: ['custom_authentication', 'on_behalf_of_token_exchange'] }, skip_non_verifiable_callback_uri_confirmation_prompt: false });
      expect(p.status).toBe(200);
      expect(p.body.token_exchange.allow_any_profile_of_type).toEqual(['custom_authentication', 'on_behalf_of_token_exchange']);
      expect(p.body.skip_non_verifiable_callback_uri_confirmation_prompt).toBe(false);

      const cleared = await s.api('PATCH', `/clients/${id}`, { token_exchange: null, skip_non_verifiable_callback_uri_confirmation_prompt: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body).not.toHaveProperty('token_exchange');
      expect(cleared.body).not.toHaveProperty('skip_non_verifiable_callback_uri_confirmation_prompt');
    });

    it.each([
      [{ token_exchange: { allow_any_profile_of_type: ['impersonation'] } }, 'token_exchange.allow_any_profile_of_type[0]'],
      [{ token_exchange: { allow_any_profile_of_type: ['custom_authentication', 'custom_authentication'] } }, 'token_exchange.allow_any_profile_of_type'],
      [{ token_exchange: { profiles: [] } }, 'token_exchange'],
      [{ skip_non_verifiable_callback_uri_confirmation_prompt: 'yes' }, 'skip_non_verifiable_callback_uri_confirmation_prompt'],
    ])('refuses %j with 400 naming %s, and creates nothing', async (body, property) => {
      const name = `refused-${uniq()}`;
      const r = await s.api('POST', '/clients', { name, ...body });
      expect(r.status).toBe(400);
      expect(r.body.errorCode).toBe('invalid_body');
      expect(r.body.message).toContain(property);
      expect(((await s.api('GET', '/clients')).body as Array<{ name: string }>).some((c) => c.name === name)).toBe(false);
    });
  });

  describe('app_type resource_server with resource_server_identifier', () => {
    it("links the client to the API: the API's read-only client_id names it; deleting the client clears it", async () => {
      const api = await createApi(s, { name: 'Linked API' });
      const r = await create({ app_type: 'resource_server', resource_server_identifier: api.identifier });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ app_type: 'resource_server', resource_server_identifier: api.identifier });
      const id = r.body.client_id as string;
      const linked = await s.api('GET', `/resource-servers/${api.id}`);
      expect(linked.body.client_id).toBe(id);
      expect((await s.api('GET', `/resource-servers/${encodeURIComponent(api.identifier)}`)).body.client_id).toBe(id);
      // the API's client_id is read-only
      const rsPatch = await s.api('PATCH', `/resource-servers/${api.id}`, { client_id: 'someone-else' });
      expect(rsPatch.status).toBe(400);
      expect((await s.api('GET', `/resource-servers/${api.id}`)).body.client_id).toBe(id);

      expect((await s.api('DELETE', `/clients/${id}`)).status).toBe(204);
      expect((await s.api('GET', `/resource-servers/${api.id}`)).body).not.toHaveProperty('client_id');
    });

    it('is create-only: PATCH with resource_server_identifier → 400, and app_type cannot leave resource_server', async () => {
      const api = await createApi(s);
      const other = await createApi(s);
      const id = (await create({ app_type: 'resource_server', resource_server_identifier: api.identifier })).body.client_id as string;
      const p = await s.api('PATCH', `/clients/${id}`, { resource_server_identifier: other.identifier });
      expect(p.status).toBe(400);
      expect(p.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: resource_server_identifier'."));
      const t = await s.api('PATCH', `/clients/${id}`, { app_type: 'regular_web' });
      expect(t.status).toBe(400);
      expect(t.body).toEqual(badRequest("Payload validation error: 'app_type of a client linked to a resource server must stay resource_server' on property app_type."));
      expect((await s.api('GET', `/clients/${id}`)).body).toMatchObject({ app_type: 'resource_server', resource_server_identifier: api.identifier });
      expect((await s.api('GET', `/resource-servers/${other.id}`)).body).not.toHaveProperty('client_id');
    });

    it('refusals: without app_type resource_server → 400; unknown or system API → 404; an API already linked → 409; nothing is written', async () => {
      const api = await createApi(s);
      const before = ((await s.api('GET', '/clients')).body as unknown[]).length;

      const wrongType = await create({ app_type: 'non_interactive', resource_server_identifier: api.identifier });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body).toEqual(badRequest("Payload validation error: 'resource_server_identifier is only allowed with app_type resource_server' on property resource_server_identifier."));

      const unknown = await create({ app_type: 'resource_server', resource_server_identifier: 'https://nowhere.example.com/' });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No resource with identifier https://nowhere.example.com/', errorCode: 'inexistent_resource_server' });

      const system = await create({ app_type: 'resource_server', resource_server_identifier: 'https://tessera.test/api/v2/' });
      expect(system.status).toBe(404);

      const empty = await create({ app_type: 'resource_server', resource_server_identifier: '' });
      expect(empty.status).toBe(400);

      expect((await create({ app_type: 'resource_server', resource_server_identifier: api.identifier })).status).toBe(201);
      const second = await create({ app_type: 'resource_server', resource_server_identifier: api.identifier });
      expect(second.status).toBe(409);
      expect(second.body.errorCode).toBe('conflict');
      expect(((await s.api('GET', '/clients')).body as unknown[]).length).toBe(before + 1);
    });
  });
});
