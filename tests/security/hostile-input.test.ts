import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { badRequest, createApi, createM2mClient, uniq } from '../helpers/management';
import { Browser, createUser, createWebApp, hiddenFields, PASSWORD } from '../helpers/flows';
import { envelopeProblem, fill, operationsOf, stateDigest, type Operation } from './surface';

const OAUTH = (description: string) => ({ error: 'invalid_request', error_description: description });
const CONTROL = "'Control characters are not allowed'";
const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth - 1) + `{"a":${leaf}}` + '}'.repeat(depth - 1);

eachDialect('security: hostile input', (dialect) => {
  let s: TestServer;
  let ops: Operation[];
  let ids: Record<string, string>;
  let web: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect);
    ops = await operationsOf(s);
    const api = await createApi(s, { scopes: [{ value: 'read:x' }] });
    const m2m = await createM2mClient(s);
    const grant = (await s.api('POST', '/client-grants', { client_id: m2m.client_id, audience: api.identifier, scope: ['read:x'] })).body;
    const role = (await s.api('POST', '/roles', { name: `alpha-${uniq()}` })).body;
    await s.api('POST', '/roles', { name: `beta-${uniq()}` });
    const org = (await s.api('POST', '/organizations', { name: `org-${uniq()}` })).body;
    const user = await createUser(s, `u-${uniq()}@example.com`);
    web = await createWebApp(s);
    const kid = (await s.api('GET', '/keys/signing')).body[0].kid as string;
    ids = { id: api.id, client: m2m.client_id, grant: grant.id, role: role.id, org: org.id, user, kid, name: org.name };
  });
  afterAll(async () => { await s?.close(); });

  type Req = { method: string; url: string; payload?: string; headers?: Record<string, string> };
  async function send(req: Req) {
    const admin = req.url.startsWith('/api/v2') ? { authorization: `Bearer ${await s.adminToken()}` } : {};
    return s.t.app.inject({ method: req.method as 'GET', url: req.url, payload: req.payload, headers: { ...admin, ...req.headers } });
  }
  /** Requests that must each be refused with `status` (and `body`) and, together, leave every list as it was. */
  async function sweep(reqs: Array<Req & { body?: unknown }>, status: number | number[]) {
    const before = await stateDigest(s);
    const out = [];
    for (const req of reqs) {
      const r = await send(req);
      expect(Array.isArray(status) ? status : [status], `${req.method} ${req.url}: ${r.body}`).toContain(r.statusCode);
      if (req.body !== undefined) expect(typeof req.body === 'string' ? r.body : JSON.parse(r.body), `${req.method} ${req.url}`).toEqual(req.body);
      expect(envelopeProblem(req.url.split('?')[0], { status: r.statusCode, body: r.body, headers: r.headers })).toBeUndefined();
      out.push(r);
    }
    expect(await stateDigest(s)).toBe(before);
    return out;
  }
  const refused = async (req: Req, status: number | number[], body?: unknown) => (await sweep([{ ...req, body }], status))[0];
  const json = { 'content-type': 'application/json' };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const paramValue = (op: Operation, name: string) =>
    name === 'kid' ? ids.kid : name === 'name' ? ids.name : op.path.includes('/organizations/{id}') && name === 'id' ? ids.org : name === 'user_id' ? ids.user : ids.id;

  describe('NUL bytes', () => {
    it('in a /oauth/token form parameter → 400 invalid_request', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: 'grant_type=client_credentials&client_id=a%00b&client_secret=x&audience=y' }, 400,
        OAUTH('Control characters are not allowed (parameter client_id).'));
    });
    it('in a /oauth/token JSON parameter → 400 invalid_request', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: json, payload: JSON.stringify({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: `${ADMIN_SECRET}\u0000` }) }, 400,
        OAUTH('Control characters are not allowed (parameter client_secret).'));
    });
    it('in the password grant username → 400 invalid_request', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: new URLSearchParams({ grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username: 'a\u0000@example.com', password: PASSWORD }).toString() }, 400,
        OAUTH('Control characters are not allowed (parameter username).'));
    });
    it('in a Basic client_id → 401 like any undecodable client authentication', async () => {
      const basic = `Basic ${Buffer.from(`${ADMIN_ID}%00:${ADMIN_SECRET}`).toString('base64')}`;
      await refused({ method: 'POST', url: '/oauth/token', headers: { ...form, authorization: basic }, payload: 'grant_type=client_credentials' }, 401);
    });
    it('in the unverified sub of a client_assertion → 401, before any lookup', async () => {
      const assertion = `e30.${Buffer.from(JSON.stringify({ sub: 'a\u0000b', iss: 'a\u0000b' })).toString('base64url')}.c2ln`;
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: new URLSearchParams({ grant_type: 'client_credentials', audience: 'urn:x',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString() }, 401);
    });
    it('in /oauth/revoke → 400 invalid_request', async () => {
      await refused({ method: 'POST', url: '/oauth/revoke', headers: form, payload: `client_id=${web.clientId}&client_secret=${web.secret}&token=a%00` }, 400,
        OAUTH('Control characters are not allowed (parameter token).'));
    });
    it.each(['GET', 'POST'])('in %s /authorize → the 400 error page', async (method) => {
      const q = `client_id=${'a%00b'}&response_type=code&redirect_uri=${encodeURIComponent('https://app.example/callback')}`;
      const r = await refused(method === 'GET' ? { method, url: `/authorize?${q}` } : { method, url: '/authorize', headers: form, payload: q }, 400);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('<strong>invalid_request</strong>: Control characters are not allowed (parameter client_id).');
    });
    it('in the login form → the 400 error page, no session', async () => {
      const b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams({ client_id: web.clientId, response_type: 'code', redirect_uri: 'https://app.example/callback' })}`);
      const page = await b.get(start.location as string);
      const r = await b.post('/u/login', { ...hiddenFields(page.body), username: 'x\u0000@example.com', password: PASSWORD });
      expect(r.status).toBe(400);
      expect(r.body).toContain('Control characters are not allowed (parameter username).');
      expect(b.jar.has('tessera_session')).toBe(false);
    });
    it.each(['/u/login', '/u/consent'])('in the state of GET %s → the 400 error page', async (path) => {
      const r = await refused({ method: 'GET', url: `${path}?state=abc%00def` }, 400);
      expect(r.body).toContain('Control characters are not allowed (parameter state).');
    });
    it('in every Management id (path parameter) → 400 invalid_uri', async () => {
      const withParams = ops.filter((o) => o.path.startsWith('/api/v2') && o.params.length > 0);
      expect(withParams.length).toBeGreaterThan(30);
      await sweep(withParams.flatMap((op) => op.params.map((name) => {
        const values = Object.fromEntries(op.params.map((p) => [p, p === name ? 'a\u0000b' : paramValue(op, p)]));
        return { method: op.method, url: fill(op.path, values), ...(op.body ? { headers: json, payload: '{}' } : {}),
          body: badRequest(`Path validation error: ${CONTROL} on property ${name}.`, 'invalid_uri') };
      })), 400);
    });
    it('in every Management filter (query parameter) → 400 invalid_query_string', async () => {
      const withQuery = ops.filter((o) => o.path.startsWith('/api/v2') && o.query.length > 0);
      await sweep(withQuery.flatMap((op) => op.query.map((q) => ({
        method: op.method, url: `${fill(op.path, Object.fromEntries(op.params.map((p) => [p, paramValue(op, p)])))}?${q.name}=a%00b`,
        body: badRequest(`Query validation error: ${CONTROL} on property ${q.name}.`, 'invalid_query_string'),
      }))), 400);
    });
    it('in a nested metadata value or key of a Management JSON body → 400 invalid_body', async () => {
      const user = { connection: 'Username-Password-Authentication', email: `n-${uniq()}@example.com`, password: PASSWORD };
      await refused({ method: 'POST', url: '/api/v2/users', headers: json, payload: JSON.stringify({ ...user, user_metadata: { prefs: { note: 'a\u0000' } } }) }, 400,
        badRequest(`Payload validation error: ${CONTROL} on property user_metadata.prefs.note.`));
      await refused({ method: 'POST', url: '/api/v2/users', headers: json, payload: JSON.stringify({ ...user, app_metadata: { 'k\u0000': 1 } }) }, 400,
        badRequest("Payload validation error: 'Control characters are not allowed in property names' on property app_metadata."));
      await refused({ method: 'PATCH', url: `/api/v2/organizations/${ids.org}`, headers: json, payload: JSON.stringify({ metadata: { a: 'x\u0000' } }) }, 400,
        badRequest(`Payload validation error: ${CONTROL} on property metadata.a.`));
    });
    it('in a form-encoded Management body → 400 invalid_body', async () => {
      await refused({ method: 'POST', url: '/api/v2/roles', headers: form, payload: 'name=a%00b' }, 400, badRequest(`Payload validation error: ${CONTROL} on property name.`));
    });
  });

  describe('control characters', () => {
    it.each(['%01', '%1B', '%09', '%0A', '%7F%1F'])('%s in a Management id → 400 invalid_uri', async (c) => {
      await refused({ method: 'GET', url: `/api/v2/clients/x${c}` }, 400, badRequest(`Path validation error: ${CONTROL} on property id.`, 'invalid_uri'));
    });
    it('ESC in a body value → 400; tab and line breaks inside body values are text and kept', async () => {
      await refused({ method: 'POST', url: '/api/v2/roles', headers: json, payload: JSON.stringify({ name: 'r', description: 'a\u001b[31m' }) }, 400,
        badRequest(`Payload validation error: ${CONTROL} on property description.`));
      const r = await s.api('POST', '/roles', { name: `multi-${uniq()}`, description: 'line one\nline two\r\n\tindented' });
      expect(r.status).toBe(200);
      expect((await s.api('GET', `/roles/${r.body.id}`)).body.description).toBe('line one\nline two\r\n\tindented');
    });
    it('tab in a query filter → 400 (query strings carry no free text)', async () => {
      await refused({ method: 'GET', url: '/api/v2/roles?name_filter=a%09b' }, 400, badRequest(`Query validation error: ${CONTROL} on property name_filter.`, 'invalid_query_string'));
    });
  });

  describe('deep nesting', () => {
    const TOO_DEEP = badRequest("Payload validation error: 'JSON nested deeper than 32 levels'.");
    it('a Management body nested 33 deep → 400 invalid_body; 32 deep is accepted', async () => {
      const base = `{"connection":"Username-Password-Authentication","password":"${PASSWORD}","email":"EMAIL","app_metadata":`;
      await refused({ method: 'POST', url: '/api/v2/users', headers: json, payload: `${base.replace('EMAIL', `d-${uniq()}@example.com`)}${nested(32)}}` }, 400, TOO_DEEP);
      const ok = await s.t.app.inject({ method: 'POST', url: '/api/v2/users', headers: { ...json, authorization: `Bearer ${await s.adminToken()}` }, payload: `${base.replace('EMAIL', `d-${uniq()}@example.com`)}${nested(31)}}` });
      expect(ok.statusCode, ok.body).toBe(201);
    });
    it.each([['objects', nested(100_000)], ['arrays', '['.repeat(100_000) + ']'.repeat(100_000)]])('100,000 nested %s on /api/v2 → 400, not a stack overflow', async (_k, body) => {
      await refused({ method: 'POST', url: '/api/v2/roles', headers: json, payload: body }, 400, TOO_DEEP);
    });
    it('100,000 nested arrays on /oauth/token → 400 invalid_request', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: json, payload: `{"grant_type":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, 400,
        OAUTH('Invalid request payload: JSON nested deeper than 32 levels'));
    });
    it('brackets inside strings do not count as nesting', async () => {
      const r = await s.api('POST', '/roles', { name: `br-${uniq()}`, description: '[{'.repeat(40) });
      expect(r.status).toBe(200);
    });
    it('form keys like a[b][c]… stay flat names (no nested objects are built)', async () => {
      const key = `a${'[b]'.repeat(5000)}`;
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: `grant_type=client_credentials&client_id=${ADMIN_ID}&client_secret=${ADMIN_SECRET}&${encodeURIComponent(key)}=1&audience=urn:none` }, 403);
    });
  });

  describe('oversize bodies and huge arrays', () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    it('over 1 MiB on /api/v2 → 413 Management envelope', async () => {
      await refused({ method: 'POST', url: '/api/v2/users', headers: json, payload: JSON.stringify({ email: big }) }, 413,
        { statusCode: 413, error: 'Payload Too Large', message: 'Request entity too large', errorCode: 'payload_too_large' });
    });
    it.each(['/oauth/token', '/oauth/revoke'])('over 1 MiB on %s → 413 OAuth body', async (url) => {
      await refused({ method: 'POST', url, headers: form, payload: `a=${big}` }, 413, OAUTH('Request entity too large'));
    });
    it.each(['/u/login', '/u/consent', '/authorize'])('over 1 MiB on %s → the 413 error page', async (url) => {
      const r = await refused({ method: 'POST', url, headers: form, payload: `a=${big}` }, 413);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body).toContain('<strong>invalid_request</strong>: Request entity too large');
    });
    it('a JSON body nested too deep on a hosted page → the 400 error page', async () => {
      const r = await refused({ method: 'POST', url: '/u/login', headers: json, payload: nested(1000) }, 400);
      expect(r.body).toContain('<strong>invalid_request</strong>: Invalid request payload: JSON nested deeper than 32 levels');
    });
    it('a 10,000-item array under the limit → refused (unknown API), quickly', async () => {
      const started = Date.now();
      const permissions = Array.from({ length: 10_000 }, () => ({ resource_server_identifier: 'urn:x', permission_name: 'p' }));
      await refused({ method: 'POST', url: `/api/v2/roles/${ids.role}/permissions`, headers: json, payload: JSON.stringify({ permissions }) }, 404,
        { statusCode: 404, error: 'Not Found', message: 'No resource with identifier urn:x', errorCode: 'inexistent_resource_server' });
      expect(Date.now() - started).toBeLessThan(10_000);
    });
    it('a form body repeating one parameter 100,000 times → 400 Duplicate parameter, quickly', async () => {
      const started = Date.now();
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: 'scope=a&'.repeat(100_000) }, 400, OAUTH('Duplicate parameter: scope'));
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });

  describe('prototype pollution', () => {
    const clean = () => expect((({}) as Record<string, unknown>).polluted).toBeUndefined();
    it.each([
      ['/api/v2/clients', '{"name":"p","client_metadata":{"__proto__":{"polluted":"yes"}}}'],
      ['/api/v2/users', '{"connection":"Username-Password-Authentication","email":"p@example.com","password":"x","app_metadata":{"__proto__":{"polluted":1}}}'],
      ['/api/v2/users', '{"connection":"Username-Password-Authentication","email":"p@example.com","password":"x","user_metadata":{"constructor":{"prototype":{"polluted":1}}}}'],
      ['/api/v2/organizations', '{"name":"p","metadata":{"__proto__":{"polluted":"1"}}}'],
      ['/api/v2/roles', '{"__proto__":{"polluted":1},"name":"p"}'],
    ])('JSON %s %s → 400 invalid_body, nothing polluted', async (url, payload) => {
      await refused({ method: 'POST', url, headers: json, payload }, 400, badRequest('Invalid request payload JSON format'));
      clean();
    });
    it('__proto__ in a /oauth/token JSON body → 400, nothing polluted', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: json, payload: '{"grant_type":"client_credentials","__proto__":{"polluted":1}}' }, 400, OAUTH('Invalid request payload JSON format'));
      clean();
    });
    it('__proto__ in a form body → 400, nothing polluted', async () => {
      await refused({ method: 'POST', url: '/oauth/token', headers: form, payload: '__proto__[polluted]=1&__proto__=x&grant_type=client_credentials' }, 400);
      await refused({ method: 'POST', url: '/api/v2/roles', headers: form, payload: 'name=p&__proto__=x' }, 400, badRequest("Payload validation error: 'Property name not allowed: __proto__'."));
      clean();
    });
    it.each(['/api/v2/roles?__proto__=x', '/api/v2/roles?__proto__[polluted]=1&constructor[prototype][polluted]=1', '/authorize?__proto__=x&client_id=c'])('query %s → 400, nothing polluted', async (url) => {
      await refused({ method: 'GET', url }, 400);
      clean();
    });
    it('constructor and prototype as plain metadata keys are stored as data', async () => {
      const md = { constructor: 'c', prototype: 'p', toString: 't', hasOwnProperty: 'h' };
      const r = await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: `m-${uniq()}@example.com`, password: PASSWORD, user_metadata: md });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect((await s.api('GET', `/users/${encodeURIComponent(r.body.user_id)}`)).body.user_metadata).toEqual(md);
      const c = await s.api('POST', '/clients', { name: `md-${uniq()}`, client_metadata: md });
      expect((await s.api('GET', `/clients/${c.body.client_id}`)).body.client_metadata).toEqual(md);
      expect((await s.token({ constructor: 'x', grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: 'urn:none' })).body.error).toBe('access_denied');
      clean();
    });
  });

  describe('SQL injection', () => {
    const PAYLOADS = ["' OR '1'='1", "x'; DROP TABLE clients; --", '" OR ""="', '%', '_', '\\', '%_%', 'ä😀\u202e', "1) OR (1=1", '*'];
    it('in every id → 404 or 400, never a 5xx, nothing changed', async () => {
      await sweep(ops.filter((o) => o.params.length > 0 && o.path.startsWith('/api/v2')).flatMap((op) => PAYLOADS.map((p) => ({
        method: op.method, url: fill(op.path, Object.fromEntries(op.params.map((n) => [n, p]))), ...(op.body ? { headers: json, payload: '{}' } : {}),
      }))), [400, 404]);
    });
    it('in every string filter → 200 with no match, or 400; never a 5xx, nothing changed', async () => {
      const before = await stateDigest(s);
      for (const op of ops.filter((o) => o.method === 'GET' && o.path.startsWith('/api/v2'))) {
        // fields/from are projections and cursors, not filters
        for (const q of op.query.filter((x) => x.type === 'string' && !['fields', 'from'].includes(x.name))) {
          for (const p of PAYLOADS) {
            const url = `${fill(op.path, Object.fromEntries(op.params.map((n) => [n, paramValue(op, n)])))}?${q.name}=${encodeURIComponent(p)}`;
            const r = await send({ method: 'GET', url });
            expect(envelopeProblem(url, { status: r.statusCode, body: r.body, headers: r.headers }), url).toBeUndefined();
            // no match: an empty list (user-blocks answers Auth0's `{blocked_for: []}`); `q` is a search language, in
            // which a payload such as `*` is a valid query that matches everything, so only its shape is checked
            if (r.statusCode === 200 && q.name === 'q') expect(Array.isArray(JSON.parse(r.body)), url).toBe(true);
            else if (r.statusCode === 200 && op.path.startsWith('/api/v2/tessera/usage')) expect(JSON.parse(r.body).usage, url).toEqual([]);
            else if (r.statusCode === 200) expect(JSON.parse(r.body), url).toEqual(op.path.startsWith('/api/v2/user-blocks') ? { blocked_for: [] } : []);
            else expect([400, 404], `${url} ${r.statusCode}`).toContain(r.statusCode);
          }
        }
      }
      expect(await stateDigest(s)).toBe(before);
    });
    it.each(['%', '_', '\\', "' OR '1'='1"])('name_filter=%s matches only names containing it literally', async (p) => {
      const r = await s.api('GET', `/roles?name_filter=${encodeURIComponent(p)}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([]);
      const hit = await s.api('POST', '/roles', { name: `lit${p}${uniq()}` });
      expect((await s.api('GET', `/roles?name_filter=${encodeURIComponent(p)}`)).body.map((x: { id: string }) => x.id)).toEqual([hit.body.id]);
      await s.api('DELETE', `/roles/${hit.body.id}`);
    });
  });
});
