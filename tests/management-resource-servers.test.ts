import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, MGMT_AUDIENCE, startTessera, type TestServer } from './helpers/tessera';
import { APPENDIX_B_SCOPES, badRequest, createApi, RS_NOT_FOUND, snapshot, uniq } from './helpers/management';

/** Contract §2.2: exactly what a create with only `identifier` returns. */
const DEFAULTS = {
  allow_offline_access: false,
  skip_consent_for_verifiable_first_party_clients: false,
  subject_type_authorization: { client: { policy: 'require_client_grant' }, user: { policy: 'allow_all' } },
  token_lifetime: 86400,
  token_lifetime_for_web: 7200,
  signing_alg: 'RS256',
};

eachDialect('management: resource servers CRUD', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  describe('create', () => {
    it('returns 201 with exactly the documented defaults and no name/scopes/enforce_policies/token_dialect/is_system', async () => {
      const identifier = `https://api-${uniq()}.example.com/TestAccResourceServer`;
      const r = await s.api('POST', '/resource-servers', { identifier });
      expect(r.status).toBe(201);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.body).toEqual({ id: r.body.id, identifier, ...DEFAULTS });
      expect(r.body.id).toMatch(/^[0-9a-f]{24}$/);
    });

    it('stores what it returned (GET by id gives the same object)', async () => {
      const created = await createApi(s, { name: 'Stored', scopes: [{ value: 'read:x', description: 'x' }] });
      const r = await s.api('GET', `/resource-servers/${created.id}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(created);
    });

    it('409 on a duplicate identifier, and the first API is left as it was', async () => {
      const created = await createApi(s, { name: 'First' });
      const r = await s.api('POST', '/resource-servers', { identifier: created.identifier, name: 'Second' });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'A resource server with the same identifier already exists.', errorCode: 'conflict' });
      expect((await s.api('GET', `/resource-servers/${created.id}`)).body).toEqual(created);
    });

    it('concurrent creates of one identifier: exactly one 201, the rest 409', async () => {
      const identifier = `urn:race:${uniq()}`;
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => s.api('POST', '/resource-servers', { identifier, name: `racer ${i}` })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      expect((await s.api('GET', `/resource-servers?identifiers=${encodeURIComponent(identifier)}`)).body).toHaveLength(1);
    });

    it.each([
      MGMT_AUDIENCE, 'https://tessera.test/userinfo', 'https://tessera.test/mfa/', 'https://tessera.test/me/',
    ])('400 for the reserved identifier %s', async (identifier) => {
      const r = await s.api('POST', '/resource-servers', { identifier });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest('The selected identifier is reserved.'));
    });

    it('400 when identifier is missing', async () => {
      const r = await s.api('POST', '/resource-servers', { name: 'No identifier' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Missing required property: identifier'."));
    });
  });

  it('tolerates the headers real clients send (Auth0-Client, User-Agent, X-Auth0-Deploy-Mode, Auth0-Custom-Domain)', async () => {
    const headers = {
      'auth0-client': Buffer.from(JSON.stringify({ name: 'node-auth0', version: '7.1.0', env: { node: '20.20.2' } })).toString('base64'),
      'user-agent': 'deploy-cli/8.44.0 (node.js/20.20.2)', 'x-auth0-deploy-mode': 'dry-run', 'auth0-custom-domain': 'login.example.com',
    };
    const created = await s.api('POST', '/resource-servers', { identifier: `urn:headers:${uniq()}` }, { headers });
    expect(created.status).toBe(201);
    expect((await s.api('GET', `/resource-servers/${created.body.id}`, undefined, { headers })).body).toEqual(created.body);
  });

  describe('get, patch and delete by id or by URL-encoded identifier', () => {
    it('urn identifier encoded the SDK way (urn%3Atest%3Aapi): 200 / 200 / 204', async () => {
      const identifier = `urn:test:api-${uniq()}`;
      const created = await createApi(s, { identifier, name: 'Test' });
      const enc = encodeURIComponent(identifier);
      expect(enc).toContain('%3A');
      const got = await s.api('GET', `/resource-servers/${enc}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created);
      const patched = await s.api('PATCH', `/resource-servers/${enc}`, { token_lifetime: 600 });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ ...created, token_lifetime: 600, token_lifetime_for_web: 600 });
      const del = await s.api('DELETE', `/resource-servers/${enc}`);
      expect(del.status).toBe(204);
      expect(del.body).toBeUndefined();
      expect((await s.api('GET', `/resource-servers/${created.id}`)).body).toEqual(RS_NOT_FOUND);
    });

    it('URL identifier encoded the go-auth0 way (only / escaped): 200 / 200 / 204', async () => {
      const identifier = `https://api-${uniq()}.example.com/x`;
      const created = await createApi(s, { identifier });
      const enc = identifier.replace(/\//g, '%2F');
      expect(enc).toMatch(/^https:%2F%2Fapi-/);
      const got = await s.api('GET', `/resource-servers/${enc}`);
      expect(got.status).toBe(200);
      expect(got.body.id).toBe(created.id);
      const patched = await s.api('PATCH', `/resource-servers/${enc}`, { scopes: [{ value: 'write:posts' }] });
      expect(patched.status).toBe(200);
      expect(patched.body.scopes).toEqual([{ value: 'write:posts' }]);
      expect((await s.api('DELETE', `/resource-servers/${enc}`)).status).toBe(204);
      expect((await s.api('GET', `/resource-servers/${enc}`)).status).toBe(404);
    });

    it('identifier URL-encoded twice, as the Terraform provider sends it (https:%252F%252F…): 200 / 200 / 204', async () => {
      const identifier = `https://api-${uniq()}.example.com/`;
      const created = await createApi(s, { identifier, name: 'Twice', scopes: [{ value: 'read:a', description: 'a' }] });
      const twice = identifier.replace(/\//g, '%252F');
      expect(twice).toMatch(/^https:%252F%252Fapi-.*%252F$/);
      const got = await s.api('GET', `/resource-servers/${twice}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created);
      // the provider's update shape: every field it manages, identifier left out
      const patched = await s.api('PATCH', `/resource-servers/${twice}`, {
        name: 'Twice', signing_alg: 'RS256', allow_offline_access: true, token_lifetime: 3600, token_lifetime_for_web: 1800,
        skip_consent_for_verifiable_first_party_clients: true, enforce_policies: true, token_dialect: 'access_token_authz',
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id: created.id, identifier, allow_offline_access: true, enforce_policies: true });
      expect((await s.api('GET', `/resource-servers/${encodeURIComponent(encodeURIComponent(identifier))}`)).body.id).toBe(created.id);
      expect((await s.api('DELETE', `/resource-servers/${twice}`)).status).toBe(204);
      expect((await s.api('GET', `/resource-servers/${twice}`)).body).toEqual(RS_NOT_FOUND);
    });

    it('an identifier containing %xx itself is reached by its single encoding first; the double decoding never shadows it', async () => {
      const slash = `urn:odd-${uniq()}/name`;
      const literal = slash.replace('/', '%2F');
      const a = await createApi(s, { identifier: slash });
      const b = await createApi(s, { identifier: literal });
      // single encoding of the literal one: routing decodes to "urn:odd-…%2Fname", an exact identifier
      expect((await s.api('GET', `/resource-servers/${encodeURIComponent(literal)}`)).body.id).toBe(b.id);
      // single encoding of the slash one
      expect((await s.api('GET', `/resource-servers/${encodeURIComponent(slash)}`)).body.id).toBe(a.id);
      // go-auth0's double encoding of the slash one reads "urn:odd-…%2Fname" after routing: the exact identifier b wins
      expect((await s.api('GET', `/resource-servers/${slash.replace('/', '%252F')}`)).body.id).toBe(b.id);
      // every character encoded twice reads "urn%3Aodd-…%2Fname", which is no identifier: one more decoding finds a
      expect((await s.api('GET', `/resource-servers/${encodeURIComponent(encodeURIComponent(slash))}`)).body.id).toBe(a.id);
    });

    it.each([
      ['encoded hex digits (%25%32%46 is %2F once more decoded)', (i: string) => i.replace(/\//g, '%25%32%46'), 200],
      ['encoded three times', (i: string) => i.replace(/\//g, '%25252F'), 404],
      ['malformed escape after the first decoding', (i: string) => `${i.replace(/\//g, '%252F')}%25E0%25A4%25A`, 404],
      ['a NUL byte after the second decoding', (i: string) => `${i.replace(/\//g, '%252F')}%2500`, 404],
      ['a newline after the second decoding', (i: string) => `${i.replace(/\//g, '%252F')}%250A`, 404],
      ['a lone %25', () => '%25', 404],
    ])('hostile path: %s → %i, never a 5xx', async (_label, spell, status) => {
      const identifier = `https://hostile-${uniq()}.example.com/`;
      const created = await createApi(s, { identifier });
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        if (method === 'DELETE' && status === 200) continue;
        const r = await s.api(method, `/resource-servers/${spell(identifier)}`, method === 'PATCH' ? { name: 'x' } : undefined);
        expect(r.status, `${method} ${spell(identifier)}`).toBe(status === 200 ? 200 : 404);
        if (status !== 200) expect(r.body).toEqual(RS_NOT_FOUND);
      }
      expect((await s.api('GET', `/resource-servers/${created.id}`)).body.identifier).toBe(identifier);
    });

    it('by id: 200 / 200 / 204', async () => {
      const created = await createApi(s);
      expect((await s.api('GET', `/resource-servers/${created.id}`)).status).toBe(200);
      const patched = await s.api('PATCH', `/resource-servers/${created.id}`, { name: 'Renamed' });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ ...created, name: 'Renamed' });
      expect((await s.api('DELETE', `/resource-servers/${created.id}`)).status).toBe(204);
      expect((await s.api('DELETE', `/resource-servers/${created.id}`)).body).toEqual(RS_NOT_FOUND);
    });

    it.each(['GET', 'PATCH', 'DELETE'])('%s of an unknown id → 404 inexistent_resource_server', async (method) => {
      const r = await s.api(method, '/resource-servers/this-resource-server-does-not-exist', method === 'PATCH' ? { name: 'x' } : undefined);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(RS_NOT_FOUND);
    });

    it('an empty PATCH body {} is accepted and changes nothing', async () => {
      const created = await createApi(s, { name: 'Unchanged' });
      const r = await s.api('PATCH', `/resource-servers/${created.id}`, {});
      expect(r.status).toBe(200);
      expect(r.body).toEqual(created);
    });

    it('PATCH identifier → 400 and the identifier stays', async () => {
      const created = await createApi(s);
      const r = await s.api('PATCH', `/resource-servers/${created.id}`, { identifier: 'https://other.example.com' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: identifier'."));
      expect((await s.api('GET', `/resource-servers/${created.id}`)).body.identifier).toBe(created.identifier);
    });
  });

  describe('the system "Auth0 Management API"', () => {
    const enc = encodeURIComponent(MGMT_AUDIENCE);

    it('exists from the first start with the Appendix B scopes and is_system: true', async () => {
      const r = await s.api('GET', `/resource-servers/${enc}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        name: 'Auth0 Management API', identifier: MGMT_AUDIENCE, is_system: true, signing_alg: 'RS256',
        token_lifetime: 86400, allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: false,
      });
      const byValue = new Map((r.body.scopes as Array<{ value: string; description: string }>).map((x) => [x.value, x.description]));
      for (const scope of APPENDIX_B_SCOPES) expect(byValue.get(scope.value), scope.value).toBe(scope.description);
      expect(APPENDIX_B_SCOPES).toHaveLength(132);
    });

    it('PATCH with scopes → 400 "Additional properties not allowed: scopes" and nothing changes', async () => {
      const before = (await s.api('GET', `/resource-servers/${enc}`)).body;
      const r = await s.api('PATCH', `/resource-servers/${enc}`, { scopes: [{ value: 'x:y' }] });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'Additional properties not allowed: scopes'."));
      expect((await s.api('GET', `/resource-servers/${enc}`)).body).toEqual(before);
    });

    it.each([['name', 'Renamed'], ['signing_alg', 'HS256'], ['enforce_policies', true], ['token_dialect', 'rfc9068_profile']])(
      'PATCH with %s → 400 Additional properties not allowed', async (key, value) => {
        const r = await s.api('PATCH', `/resource-servers/${enc}`, { [key]: value });
        expect(r.status).toBe(400);
        expect(r.body).toEqual(badRequest(`Payload validation error: 'Additional properties not allowed: ${key}'.`));
      });

    it('PATCH with the fields Terraform and a0deploy send to system APIs → 200', async () => {
      const id = (await s.api('GET', `/resource-servers/${enc}`)).body.id as string;
      const body = {
        token_lifetime: 7200, token_lifetime_for_web: 3600, skip_consent_for_verifiable_first_party_clients: true,
        subject_type_authorization: { client: { policy: 'require_client_grant' } },
        proof_of_possession: { mechanism: 'dpop', required: false }, authorization_policy: { policy_id: 'pol_1' },
      };
      const r = await s.api('PATCH', `/resource-servers/${id}`, body);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ...body, name: 'Auth0 Management API', is_system: true });
      const back = await s.api('PATCH', `/resource-servers/${id}`, { token_lifetime: 86400, token_lifetime_for_web: 7200, skip_consent_for_verifiable_first_party_clients: false, proof_of_possession: null, authorization_policy: null });
      expect(back.status).toBe(200);
      expect(back.body.proof_of_possession).toBeUndefined();
    });

    it('DELETE → 400 "System resource servers cannot be deleted." and it is still there', async () => {
      const r = await s.api('DELETE', `/resource-servers/${enc}`);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'System resource servers cannot be deleted.' });
      expect((await s.api('GET', `/resource-servers/${enc}`)).status).toBe(200);
    });
  });
});

eachDialect('management: resource servers list', (dialect) => {
  let s: TestServer;
  const created: Array<Record<string, any>> = [];
  beforeAll(async () => {
    s = await startTessera(dialect);
    for (let i = 0; i < 6; i++) created.push(await createApi(s, { identifier: `urn:list:${i}`, name: `List ${i}` }));
  });
  afterAll(async () => { await s.close(); });

  it('without paging parameters: a bare array of everything, system API first', async () => {
    const r = await s.api('GET', '/resource-servers');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect(r.body).toHaveLength(7);
    expect(r.body[0]).toMatchObject({ name: 'Auth0 Management API', is_system: true });
    expect(r.body.slice(1)).toEqual(created);
  });

  it('include_totals=true: {start, limit, total, resource_servers} with the exact total', async () => {
    const r = await s.api('GET', '/resource-servers?page=0&per_page=50&include_totals=true');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['limit', 'resource_servers', 'start', 'total']);
    expect(r.body).toMatchObject({ start: 0, limit: 50, total: 7 });
    expect(r.body.resource_servers).toHaveLength(7);
  });

  it('offset pages: page 1 of per_page=3, the last partial page, then an empty page past the end (200)', async () => {
    const p1 = await s.api('GET', '/resource-servers?page=1&per_page=3&include_totals=true');
    expect(p1.body).toEqual({ start: 3, limit: 3, total: 7, resource_servers: created.slice(2, 5) });
    const p2 = await s.api('GET', '/resource-servers?page=2&per_page=3&include_totals=true');
    expect(p2.body).toEqual({ start: 6, limit: 3, total: 7, resource_servers: created.slice(5) });
    const past = await s.api('GET', '/resource-servers?page=3&per_page=3&include_totals=true');
    expect(past.status).toBe(200);
    expect(past.body).toEqual({ start: 9, limit: 3, total: 7, resource_servers: [] });
    const pastBare = await s.api('GET', '/resource-servers?page=50&per_page=3');
    expect(pastBare.status).toBe(200);
    expect(pastBare.body).toEqual([]);
  });

  it('paging through with per_page=100 (a0deploy) returns exactly total items', async () => {
    const r = await s.api('GET', '/resource-servers?page=0&per_page=100&include_totals=true');
    expect(r.body.total).toBe(r.body.resource_servers.length);
  });

  it('identifiers filter, repeated (?identifiers=a&identifiers=b), URL-encoded', async () => {
    const q = ['urn:list:1', 'urn:list:4'].map((i) => `identifiers=${encodeURIComponent(i)}`).join('&');
    const r = await s.api('GET', `/resource-servers?${q}&page=0&per_page=10&include_totals=true`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ start: 0, limit: 10, total: 2, resource_servers: [created[1], created[4]] });
  });

  it('a single identifiers value, and one that matches nothing', async () => {
    expect((await s.api('GET', `/resource-servers?identifiers=${encodeURIComponent('urn:list:3')}`)).body).toEqual([created[3]]);
    expect((await s.api('GET', '/resource-servers?identifiers=urn%3Anope&include_totals=true')).body)
      .toEqual({ start: 0, limit: 50, total: 0, resource_servers: [] });
  });

  it('more than 10 identifiers → 400 invalid_query_string', async () => {
    const q = Array.from({ length: 11 }, (_, i) => `identifiers=urn%3Ax%3A${i}`).join('&');
    const r = await s.api('GET', `/resource-servers?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(badRequest(
      "Query validation error: 'Array is too long (11), maximum 10' on property identifiers (An optional filter on the resource server identifier. Must be URL encoded and may be specified multiple times (max 10).).",
      'invalid_query_string',
    ));
  });

  it.each([
    ['per_page=0', "Query validation error: 'Value 0 is less than minimum 1' on property per_page (Number of results per page.)."],
    ['per_page=101', "Query validation error: 'Value 101 is greater than maximum 100' on property per_page (Number of results per page.)."],
    ['page=-1', "Query validation error: 'Value -1 is less than minimum 0' on property page (Page index of the results to return. First page is 0.)."],
    ['page=abc', "Query validation error: 'Expected type integer but found type string' on property page (Page index of the results to return. First page is 0.)."],
  ])('bad paging %s → 400 invalid_query_string', async (q, message) => {
    const r = await s.api('GET', `/resource-servers?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(badRequest(message, 'invalid_query_string'));
  });

  it('a failed request leaves the list unchanged', async () => {
    const before = await snapshot(s);
    await s.api('POST', '/resource-servers', { identifier: 'urn:list:0' });
    await s.api('POST', '/resource-servers', { identifier: 'urn:new', signing_alg: 'HS512' });
    expect(await snapshot(s)).toEqual(before);
  });
});
