import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, createApi, createM2mClient, raw, snapshot } from './helpers/management';

const INVALID_JSON = badRequest('Invalid request payload JSON format');
/** Cases per endpoint for the property tests; raise TESSERA_FUZZ_RUNS for a longer hunt. */
const RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? 25);

eachDialect('management: bad input', (dialect) => {
  let s: TestServer;
  let api: Record<string, any>;
  let grantId: string;
  beforeAll(async () => {
    s = await startTessera(dialect);
    api = await createApi(s, { name: 'Target', scopes: [{ value: 'read:x' }, { value: 'write:x' }] });
    const c = await createM2mClient(s);
    grantId = (await s.api('POST', '/client-grants', { client_id: c.client_id, audience: api.identifier, scope: ['read:x'] })).body.id;
  });
  afterAll(async () => { await s.close(); });

  /** Sends a request that must fail with `status`/`body` and leave every list exactly as it was. */
  async function refused(method: string, path: string, payload: string | Buffer | undefined, headers: Record<string, string>, status: number, body?: unknown) {
    const before = await snapshot(s);
    const r = await raw(s, method, path, payload, headers);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    if (body) expect(r.body).toEqual(body);
    else expect(r.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String), errorCode: expect.any(String) });
    expect(await snapshot(s)).toEqual(before);
    return r;
  }
  const json = { 'content-type': 'application/json' };

  describe('malformed bodies', () => {
    it.each([
      ['POST', '/resource-servers'], ['PATCH', '/resource-servers/ID'], ['POST', '/clients'], ['PATCH', '/clients/CLIENT'],
      ['POST', '/client-grants'], ['PATCH', '/client-grants/GRANT'],
    ])('%s %s with malformed JSON → 400 invalid_body', async (method, path) => {
      const clients = (await s.api('GET', '/clients')).body as Array<{ client_id: string }>;
      const p = path.replace('ID', api.id).replace('CLIENT', clients[1].client_id).replace('GRANT', grantId);
      await refused(method, p, '{"identifier": "urn:x",', json, 400, INVALID_JSON);
    });

    it('an empty JSON body where a body is required → 400', async () => {
      await refused('POST', '/resource-servers', '', json, 400, badRequest("Payload validation error: 'Expected type object but found type null'."));
      await refused('PATCH', `/resource-servers/${api.id}`, '', json, 400, badRequest("Payload validation error: 'Expected type object but found type null'."));
    });

    it('bodiless operations accept an empty body sent as application/json (go-auth0 always sets the header)', async () => {
      const c = await createM2mClient(s);
      const rotated = await raw(s, 'POST', `/clients/${c.client_id}/rotate-secret`, '', { ...json, 'content-length': '0' });
      expect(rotated.status).toBe(200);
      expect(rotated.body.client_secret).not.toBe(c.client_secret);
      const extra = await createApi(s);
      expect((await raw(s, 'DELETE', `/resource-servers/${extra.id}`, '', { ...json, 'content-length': '0' })).status).toBe(204);
      expect((await raw(s, 'DELETE', `/clients/${c.client_id}`, '', { ...json, 'content-length': '0' })).status).toBe(204);
    });

    it.each([['[]', 'array'], ['"urn:x"', 'string'], ['null', 'null'], ['42', 'integer']])('a JSON %s body → 400 Expected type object', async (payload, type) => {
      await refused('POST', '/resource-servers', payload, json, 400, badRequest(`Payload validation error: 'Expected type object but found type ${type}'.`));
    });

    it('__proto__ in the body is refused, not merged', async () => {
      const r = await refused('POST', '/resource-servers', '{"identifier":"urn:proto","__proto__":{"is_system":true}}', json, 400);
      expect(r.body.statusCode).toBe(400);
      expect(({} as Record<string, unknown>).is_system).toBeUndefined();
    });

    it('a body over 1 MiB → 413', async () => {
      const payload = JSON.stringify({ identifier: 'urn:big', name: 'x'.repeat(1024 * 1024) });
      await refused('POST', '/resource-servers', payload, json, 413, { statusCode: 413, error: 'Payload Too Large', message: 'Request entity too large', errorCode: 'payload_too_large' });
    });

    it.each(['text/plain', 'application/xml', 'multipart/form-data; boundary=x'])('content type %s → 415', async (type) => {
      await refused('POST', '/resource-servers', '{"identifier":"urn:ct"}', { 'content-type': type }, 415, { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type', errorCode: 'unsupported_media_type' });
    });

    it('the same body rules hold on every /api/v2 resource (roles shown)', async () => {
      await refused('POST', '/roles', '{"name":"r"}', { 'content-type': 'text/plain' }, 415, { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type', errorCode: 'unsupported_media_type' });
      await refused('POST', '/roles', '{"name":', json, 400, INVALID_JSON);
    });

    it('no body and no content type on POST → 400, nothing created', async () => {
      await refused('POST', '/resource-servers', undefined, {}, 400);
    });

    it('form-encoded bodies (declared by the OAS) are validated like JSON', async () => {
      await refused('POST', '/resource-servers', 'identifier=urn%3Aform&token_lifetime=abc', { 'content-type': 'application/x-www-form-urlencoded' }, 400,
        badRequest("Payload validation error: 'Expected type integer but found type string' on property token_lifetime (Expiration value (in seconds) for access tokens issued for this API from the token endpoint.)."));
    });
  });

  describe('unknown fields, wrong types, unknown ids', () => {
    it.each([
      ['POST', '/resource-servers', { identifier: 'urn:unknown', colour: 'blue' }, "Payload validation error: 'Additional properties not allowed: colour'."],
      ['POST', '/resource-servers', { identifier: 42 }, "Payload validation error: 'Expected type string but found type integer' on property identifier (Unique identifier for the API used as the audience parameter on authorization calls. Can not be changed once set.)."],
      ['POST', '/resource-servers', { identifier: 'urn:t', allow_offline_access: 'true' }, "Payload validation error: 'Expected type boolean but found type string' on property allow_offline_access (Whether refresh tokens can be issued for this API (true) or not (false).)."],
      ['POST', '/resource-servers', { identifier: 'urn:t', scopes: {} }, "Payload validation error: 'Expected type array but found type object' on property scopes (List of permissions (scopes) that this API uses.)."],
      ['POST', '/clients', { name: 'x', is_first_party: 1 }, "Payload validation error: 'Expected type boolean but found type integer' on property is_first_party (Whether this client a first party client (true) or not (false).)."],
      ['POST', '/client-grants', { client_id: 'x', audience: 'y', allow_all_scopes: 'yes' }, "Payload validation error: 'Expected type boolean but found type string' on property allow_all_scopes."],
    ])('%s %s %j → 400 invalid_body', async (method, path, body, message) => {
      await refused(method, path, JSON.stringify(body), json, 400, badRequest(message));
    });

    it('unknown ids → 404 with the resource envelope', async () => {
      await refused('PATCH', '/resource-servers/000000000000000000000000', '{"name":"x"}', json, 404, { statusCode: 404, error: 'Not Found', message: 'The resource server does not exist', errorCode: 'inexistent_resource_server' });
      await refused('DELETE', '/clients/unknown-client', undefined, {}, 404, { statusCode: 404, error: 'Not Found', message: 'The client does not exist', errorCode: 'inexistent_client' });
      await refused('PATCH', '/client-grants/cgr_unknown', '{"scope":[]}', json, 404, { statusCode: 404, error: 'Not Found', message: 'The client grant does not exist.', errorCode: 'inexistent_client_grant' });
    });

    it('an unknown route or method under /api/v2 → 404 envelope', async () => {
      await refused('GET', '/no-such-thing', undefined, {}, 404, { statusCode: 404, error: 'Not Found', message: 'Not Found', errorCode: 'not_found' });
      await refused('PUT', '/resource-servers', '{}', json, 404, { statusCode: 404, error: 'Not Found', message: 'Not Found', errorCode: 'not_found' });
    });

    it('a badly percent-encoded id → 400 invalid_uri envelope', async () => {
      await refused('GET', '/resource-servers/%E0%A4%A', undefined, {}, 400, badRequest("Path validation error: 'Invalid URL encoding'.", 'invalid_uri'));
      await refused('PATCH', '/resource-servers/%ZZ', '{"name":"x"}', json, 400, badRequest("Path validation error: 'Invalid URL encoding'.", 'invalid_uri'));
    });

    it('an id longer than any identifier could encode to → 414 envelope', async () => {
      await refused('DELETE', `/resource-servers/${'a'.repeat(3000)}`, undefined, {}, 414, { statusCode: 414, error: 'URI Too Long', message: 'URI Too Long', errorCode: 'invalid_uri' });
    });

    it.each(['/resource-servers', '/clients', '/client-grants'])('a page far past the end of %s → 200 and an empty page, never 5xx', async (path) => {
      const r = await raw(s, 'GET', `${path}?page=99999999999999999999&per_page=100&include_totals=true`, undefined);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ start: Number.MAX_SAFE_INTEGER, limit: 100, [path.slice(1).replace('-', '_')]: [] });
      const bare = await raw(s, 'GET', `${path}?page=99999999999999999999`, undefined);
      expect(bare.status).toBe(200);
      expect(bare.body).toEqual([]);
    });

    it('query booleans must be booleans', async () => {
      const r = await raw(s, 'GET', '/resource-servers?include_totals=maybe', undefined);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Query validation error: 'Expected type boolean but found type string' on property include_totals (Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).).", 'invalid_query_string'));
    });
  });

  describe('property: random JSON never yields 5xx, and failures change nothing', () => {
    const RS_KEYS = ['identifier', 'name', 'scopes', 'signing_alg', 'signing_secret', 'token_lifetime', 'token_lifetime_for_web', 'allow_offline_access',
      'enforce_policies', 'token_dialect', 'token_encryption', 'proof_of_possession', 'subject_type_authorization', 'authorization_details', 'consent_policy'];
    const CLIENT_KEYS = ['name', 'app_type', 'grant_types', 'token_endpoint_auth_method', 'jwt_configuration', 'client_metadata', 'refresh_token',
      'client_authentication_methods', 'organization_usage', 'default_organization', 'client_secret', 'is_first_party', 'callbacks'];
    const GRANT_KEYS = ['client_id', 'audience', 'scope', 'allow_all_scopes', 'subject_type', 'organization_usage', 'allow_any_organization', 'default_for'];
    const plausible = fc.oneof(
      fc.constantFrom('urn:prop', 'HS256', 'RS256', 'HS512', 'read:x', 'write:x', 'client', 'user', 'access_token', 'dpop', '', 'a<b', MGMT_AUDIENCE),
      fc.integer({ min: -10, max: 3_000_000 }), fc.boolean(), fc.constant(null),
      fc.array(fc.constantFrom('read:x', 'write:x', 'nope'), { maxLength: 3 }),
      fc.array(fc.record({ value: fc.constantFrom('read:x', 'y', ''), description: fc.string({ maxLength: 5 }) }, { requiredKeys: ['value'] }), { maxLength: 3 }),
      fc.record({ mechanism: fc.constantFrom('dpop', 'mtls', 'x'), required: fc.boolean() }),
      fc.record({ client: fc.record({ policy: fc.constantFrom('deny_all', 'allow_all') }) }),
      fc.constantFrom('non_interactive', 'spa', 'client_secret_post', 'none', 'allow', 'require'),
      fc.constantFrom({ alg: 'RS256', lifetime_in_seconds: 5 }, { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: 'x' }] } },
        { private_key_jwt: { credentials: [{ id: 'cred_x' }] } }, { organization_id: 'org_1', flows: ['client_credentials'] }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const bodyFor = (keys: string[]) => fc.oneof(
      { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...keys, 'extra'), plausible, { maxKeys: 5 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );

    async function check(method: string, path: () => string, keys: string[], extra: () => Record<string, unknown> = () => ({})) {
      await fc.assert(fc.asyncProperty(bodyFor(keys), async (body) => {
        const payload = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...extra(), ...body } : body;
        const before = await snapshot(s);
        const r = await raw(s, method, path(), JSON.stringify(payload), json);
        expect(r.status, JSON.stringify({ payload, body: r.body })).toBeLessThan(500);
        if (r.status >= 400) {
          expect(r.body).toMatchObject({ statusCode: r.status, error: expect.any(String), message: expect.any(String) });
          expect(await snapshot(s)).toEqual(before);
        }
      }), { numRuns: RUNS });
    }

    it('POST /resource-servers', async () => {
      let n = 0;
      await check('POST', () => '/resource-servers', RS_KEYS, () => (n++ % 2 ? {} : { identifier: `urn:prop:${n}` }));
    });
    it('PATCH /resource-servers/{id} (custom and system API)', async () => {
      const system = (await s.api('GET', `/resource-servers/${encodeURIComponent(MGMT_AUDIENCE)}`)).body.id as string;
      let n = 0;
      await check('PATCH', () => `/resource-servers/${n++ % 3 ? api.id : system}`, RS_KEYS.filter((k) => k !== 'identifier'));
    });
    it('POST /client-grants', async () => {
      const clients = (await s.api('GET', '/clients')).body as Array<{ client_id: string }>;
      await check('POST', () => '/client-grants', GRANT_KEYS, () => ({ client_id: clients[clients.length - 1].client_id, audience: api.identifier }));
    });
    it('PATCH /client-grants/{id}', async () => {
      await check('PATCH', () => `/client-grants/${grantId}`, GRANT_KEYS);
    });
    it('POST /clients and PATCH /clients/{id}', async () => {
      await check('POST', () => '/clients', CLIENT_KEYS, () => ({ name: 'fuzzed' }));
      const target = (await s.api('GET', '/clients')).body.at(-1).client_id as string;
      await check('PATCH', () => `/clients/${target}`, CLIENT_KEYS.filter((k) => k !== 'client_secret'));
    });
  });
});
