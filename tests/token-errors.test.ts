import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

/** Fixture: an API with two scopes and a client; `grant: null` leaves the client without a grant. */
async function setup(s: TestServer, o: { identifier: string; api?: object; client?: object; grant?: object | null }) {
  const api = await s.api('POST', '/resource-servers', { identifier: o.identifier, name: o.identifier, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }, { value: 'delete:orders' }], ...o.api });
  expect(api.status).toBe(201);
  const client = await s.api('POST', '/clients', { name: 'Worker', app_type: 'non_interactive', grant_types: ['client_credentials'], ...o.client });
  expect(client.status).toBe(201);
  if (o.grant !== null) {
    const g = await s.api('POST', '/client-grants', { client_id: client.body.client_id, audience: o.identifier, scope: ['read:orders'], ...o.grant });
    expect(g.status).toBe(201);
  }
  const clientId = client.body.client_id as string;
  return { clientId, params: { grant_type: 'client_credentials', client_id: clientId, client_secret: client.body.client_secret as string, audience: o.identifier } };
}

eachDialect('token endpoint: client_credentials errors (contract §7.3)', (dialect) => {
  let s: TestServer;
  let ok: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await startTessera(dialect);
    ok = await setup(s, { identifier: 'https://orders.example/' });
  });
  afterAll(async () => { await s.close(); });

  async function expectError(params: Record<string, string>, status: number, body: object, o?: { json?: boolean }) {
    const r = await s.token(params, o);
    expect(r.status).toBe(status);
    expect(r.body).toEqual(body);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.pragma).toBe('no-cache');
  }

  it('the success response is not cacheable either', async () => {
    const r = await s.token(ok.params);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.pragma).toBe('no-cache');
  });

  it('wrong secret → 401 access_denied Unauthorized', async () => {
    await expectError({ ...ok.params, client_secret: 'not-the-secret' }, 401, { error: 'access_denied', error_description: 'Unauthorized' });
  });

  it('unknown client → the same 401, revealing nothing', async () => {
    await expectError({ ...ok.params, client_id: 'no-such-client' }, 401, { error: 'access_denied', error_description: 'Unauthorized' });
    await expectError({ ...ok.params, client_id: 'no-such-client' }, 401, { error: 'access_denied', error_description: 'Unauthorized' }, { json: true });
  });

  it('grant type not enabled on the client → 403 unauthorized_client with error_uri', async () => {
    const f = await setup(s, { identifier: 'https://web-only.example/', client: { app_type: 'regular_web', grant_types: ['authorization_code'] } });
    await expectError(f.params, 403, {
      error: 'unauthorized_client',
      error_description: "Grant type 'client_credentials' not allowed for the client.",
      error_uri: 'https://auth0.com/docs/clients/client-grant-types',
    });
  });

  it('missing audience → 403 with Auth0\'s text', async () => {
    const { audience: _a, ...noAudience } = ok.params;
    const body = { error: 'access_denied', error_description: 'No audience parameter was provided, and no default audience has been configured' };
    await expectError(noAudience, 403, body);
    await expectError({ ...ok.params, audience: '' }, 403, body);
  });

  it('unknown audience → 403 "Service not enabled within domain: <aud>"', async () => {
    await expectError({ ...ok.params, audience: 'https://nope.example/' }, 403, { error: 'access_denied', error_description: 'Service not enabled within domain: https://nope.example/' });
  });

  it('no client grant → 403 naming the client and the API', async () => {
    const f = await setup(s, { identifier: 'https://no-grant.example/', grant: null });
    await expectError(f.params, 403, {
      error: 'access_denied',
      error_description: `Client "${f.clientId}" is not authorized to access resource server "https://no-grant.example/". You need to create a "client-grant" associated to this API.`,
    });
  });

  it('a grant for another API does not count', async () => {
    await s.api('POST', '/resource-servers', { identifier: 'https://other.example/' });
    await expectError({ ...ok.params, audience: 'https://other.example/' }, 403, {
      error: 'access_denied',
      error_description: `Client "${ok.clientId}" is not authorized to access resource server "https://other.example/". You need to create a "client-grant" associated to this API.`,
    });
  });

  it('scopes outside the grant → 403 listing every missing scope in request order', async () => {
    await expectError({ ...ok.params, scope: 'write:orders read:orders delete:orders' }, 403, { error: 'access_denied', error_description: 'Client has not been granted scopes: write:orders delete:orders' });
    await expectError({ ...ok.params, scope: 'read:orders not:defined' }, 403, { error: 'access_denied', error_description: 'Client has not been granted scopes: not:defined' });
  });

  it('subject_type_authorization.client.policy = deny_all → 403 even with a grant', async () => {
    const f = await setup(s, { identifier: 'https://users-only.example/', api: { subject_type_authorization: { client: { policy: 'deny_all' } } } });
    await expectError(f.params, 403, {
      error: 'access_denied',
      error_description: `Client "${f.clientId}" is not authorized to access resource server "https://users-only.example/". The API does not allow machine-to-machine access.`,
    });
  });

  it('organization on a grant that does not allow organizations → 403', async () => {
    await expectError({ ...ok.params, organization: 'org_abc' }, 403, { error: 'access_denied', error_description: 'The client grant does not allow the use of organizations.' });
  });

  it('unknown grant_type → 400 unsupported_grant_type', async () => {
    await expectError({ ...ok.params, grant_type: 'urn:example:magic' }, 400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant type: urn:example:magic' });
  });

  it('missing grant_type → 400 invalid_request', async () => {
    const { grant_type: _g, ...rest } = ok.params;
    await expectError(rest, 400, { error: 'invalid_request', error_description: 'Missing required parameter: grant_type' });
    await expectError(rest, 400, { error: 'invalid_request', error_description: 'Missing required parameter: grant_type' }, { json: true });
  });

  it('missing client_id and no other authentication → 400 invalid_request', async () => {
    const { client_id: _c, client_secret: _s, ...rest } = ok.params;
    await expectError(rest, 400, { error: 'invalid_request', error_description: 'Missing required parameter: client_id' });
  });

  it('malformed JSON → 400 invalid_request, not a 5xx', async () => {
    const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Invalid request payload JSON format' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('an unsupported content type → 415 invalid_request, not a 5xx', async () => {
    const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/xml' }, payload: '<grant_type/>' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Unsupported Media Type' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a text/plain body → 400 invalid_request naming the accepted encodings', async () => {
    const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded or application/json.' });
  });

  it('an empty body → 400 invalid_request', async () => {
    const res = await s.t.app.inject({ method: 'POST', url: '/oauth/token' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded or application/json.' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('never answers arbitrary input with a 5xx (property)', async () => {
    const names = ['grant_type', 'client_id', 'client_secret', 'audience', 'scope', 'resource', 'organization', 'client_assertion', 'client_assertion_type'];
    const value = fc.oneof(fc.string(), fc.constantFrom(ok.params.client_id, ok.params.client_secret, ok.params.audience, 'client_credentials', 'a.b.c', '%', ''));
    await fc.assert(fc.asyncProperty(
      fc.dictionary(fc.constantFrom(...names), value),
      fc.option(fc.oneof(fc.string().map((v) => `Basic ${Buffer.from(v).toString('base64')}`), fc.string()), { nil: undefined }),
      fc.boolean(),
      async (params, authorization, json) => {
        const r = await s.token(params, { json, headers: authorization === undefined ? {} : { authorization } });
        expect(r.status).toBeLessThan(500);
        expect(r.headers['cache-control']).toBe('no-store');
        if (r.status !== 200) expect(Object.keys(r.body).filter((k) => k !== 'error_uri').sort()).toEqual(['error', 'error_description']);
      },
    ), { numRuns: 150 });
  });
});
