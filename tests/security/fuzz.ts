import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { envelopeProblem, isManagement, operationsOf, stateDigest, type Operation } from './surface';

/** Strings an attacker sends: control characters, SQL, prototype keys, odd unicode, huge numbers. */
const NASTY = [
  '\u0000', 'a\u0000b', '\u0001\u001f', '\t', '\r\n', '\u001b[31m', "' OR '1'='1", "'; DROP TABLE clients; --", '" OR ""="', '%', '_', '\\',
  '%00', '%%', '__proto__', 'constructor', 'prototype', 'toString', '\u202e', '\ud800', '\udfff', '😀', 'ä', '\uffff', '../../etc/passwd',
  `e30.${Buffer.from(JSON.stringify({ sub: 'a\u0000b', iss: 'a\u0000b' })).toString('base64url')}.c2ln`, '1e309', '-1', '0', '99999999999999999999999', 'NaN', 'Infinity', 'true', 'null', '[]', '{}', '<script>alert(1)</script>', 'x'.repeat(3000),
];
export const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...NASTY), fc.string({ maxLength: 4 })).map((p) => p.join('')) },
);
const hugeNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.1, 4294967296, -2147483649));

/** Field names the routes know, so generated bodies reach past "additional properties" some of the time. */
const FIELDS = ['name', 'identifier', 'scopes', 'value', 'description', 'client_id', 'audience', 'scope', 'grant_type', 'client_secret',
  'username', 'password', 'email', 'connection', 'app_metadata', 'user_metadata', 'client_metadata', 'metadata', 'permissions', 'roles',
  'users', 'members', 'callbacks', 'token_lifetime', 'signing_alg', 'app_type', 'is_first_party', 'organization_usage', 'blocked',
  'resource_server_identifier', 'permission_name', 'code', 'redirect_uri', 'refresh_token', 'token', 'state', 'csrf', 'action',
  'response_type', 'code_verifier', 'client_assertion', 'display_name', 'grant_types', 'allow_any_organization', 'subject_type'];
export const fieldName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: hostileString });

const leaf = fc.oneof(hostileString, hugeNumber, fc.boolean(), fc.constant(null));
export const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fieldName, tie('value'), { maxKeys: 5 }),
})).value;

/** Percent-encodes any string byte by byte (encodeURIComponent throws on lone surrogates). */
export function pct(v: string): string {
  return [...Buffer.from(v, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

/** JSON texts JSON.stringify never writes: out-of-range numbers, duplicate keys, escaped lone surrogates and NUL, a BOM. */
const RAW_JSON = [
  '{"name":1e400,"token_lifetime":1e400,"page":-1e400}', '{"token_lifetime":12345678901234567890123,"per_page":-0}', '{"name":"a","name":"b"}',
  '{"name":"\\ud800","description":"\\udfff"}', '{"name":"a\\u0000b"}', '{"app_metadata":{"a":1e-400,"b":"\\u0000"}}', '\ufeff{"name":"bom"}',
  '{"client_metadata":{"k":"\\u001f"},"metadata":{"\\u0000":"v"}}', '{"scope":["a","a"],"permissions":[null,{},[]]}',
];

/** DPoP proofs an attacker writes: garbage, no signature, a JWT header with an embedded key and odd claims. */
const DPOP = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(
  `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: 'a\u0000', htm: 'POST', htu: 'https://tessera.test/oauth/token', iat: 1 })).toString('base64url')}.`,
  `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' } })).toString('base64url')}.e30.AAAA`,
));

const bodyText = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fieldName, jsonish, { maxKeys: 6 }).map((o) => ({ type: 'application/json', text: JSON.stringify(o) })) },
  { weight: 1, arbitrary: jsonish.map((v) => ({ type: 'application/json', text: JSON.stringify(v) ?? 'null' })) },
  { weight: 1, arbitrary: fc.tuple(fc.dictionary(fieldName, jsonish, { maxKeys: 3 }), fc.constantFrom('__proto__', 'constructor', 'prototype'), jsonish)
    .map(([o, k, v]) => ({ type: 'application/json', text: JSON.stringify({ ...o, zz_key: { polluted: v } }).replace('"zz_key"', JSON.stringify(k)) })) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).map((d) => ({ type: 'application/json', text: `{"name":${'['.repeat(d)}1${']'.repeat(d)}}` })) },
  { weight: 3, arbitrary: fc.array(fc.tuple(fieldName, hostileString), { maxLength: 6 })
    .map((pairs) => ({ type: 'application/x-www-form-urlencoded', text: pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&') })) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_JSON).map((text) => ({ type: 'application/json', text })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'application/json; charset=utf-16', '', 'multipart/form-data; boundary=x'), fc.string({ unit: 'binary', maxLength: 40 }))
    .map(([type, text]) => ({ type, text })) },
);

export interface FuzzRequest { method: string; url: string; path: string; headers: Record<string, string>; payload?: string }

export interface FuzzContext {
  ops: Operation[];
  /** Real ids the routes may find (never the admin client's or a signing key: the suite needs its admin token). */
  ids: string[];
  adminToken: string;
  /** Operations whose success would make the admin token useless (key rotation): sent without a valid token. */
  noAdmin: (op: Operation) => boolean;
}

/** `arb` one time in `n`, null otherwise. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number) => fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** One generated request for one of `ctx.ops` (or a random path, or a wrong method). */
export function requestArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const param = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...ctx.ids) }, { weight: 1, arbitrary: hostileString });
  return fc.record({
    op: fc.constantFrom(...ctx.ops),
    // mostly the operation's own path and method; sometimes a random path or another method
    randomPath: rarely(fc.array(hostileString, { minLength: 1, maxLength: 4 }), 10),
    method: rarely(fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'), 8),
    params: fc.array(param, { minLength: 3, maxLength: 3 }),
    query: fc.oneof({ weight: 3, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fieldName, fc.constantFrom('page', 'per_page', 'include_totals', 'from', 'take', 'fields', 'q')), hostileString), { maxLength: 3 }) }),
    knownQuery: fc.option(fc.tuple(fc.nat(), fc.oneof(hostileString, hugeNumber.map(String), fc.constantFrom(...ctx.ids))), { freq: 3, nil: undefined }),
    body: fc.option(bodyText, { freq: 4 }),
    token: fc.constantFrom('admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'none', 'garbage', 'basic'),
    cookie: rarely(fc.string({ maxLength: 30 }), 6),
    dpop: rarely(DPOP, 8),
  }).map((g) => {
    let path: string;
    if (g.randomPath) path = `${g.op.path.startsWith('/api/v2') ? '/api/v2' : ''}/${g.randomPath.map(pct).join('/')}`;
    else { let i = 0; path = g.op.path.replace(/\{[^}]+\}/g, () => pct(g.params[i++ % 3])); }
    const query = (g.query as Array<[string, string]>).map(([k, v]) => `${pct(k)}=${pct(v)}`);
    if (g.knownQuery !== undefined && g.op.query.length > 0) query.push(`${g.op.query[g.knownQuery[0] % g.op.query.length].name}=${pct(g.knownQuery[1])}`);
    const headers: Record<string, string> = {};
    const admin = g.token === 'admin' && !ctx.noAdmin(g.op);
    if (admin) headers.authorization = `Bearer ${ctx.adminToken}`;
    else if (g.token === 'garbage') headers.authorization = `Bearer ${ctx.adminToken.slice(0, -3)}abc`;
    else if (g.token === 'basic') headers.authorization = `Basic ${Buffer.from(`${g.params[0]}:${g.params[1]}`).toString('base64')}`;
    if (g.cookie !== null) headers.cookie = `tessera_session=${pct(g.cookie)}; tessera_csrf=${pct(g.cookie)}`;
    if (g.body?.type) headers['content-type'] = g.body.type;
    if (g.dpop !== null) headers.dpop = g.dpop;
    const method = g.method ?? g.op.method;
    return { method, path, url: query.length ? `${path}?${query.join('&')}` : path, headers, payload: g.body && method !== 'GET' && method !== 'HEAD' ? g.body.text : undefined };
  });
}

export interface FuzzOutcome { requests: number; statusCounts: Record<string, number>; stateChecks: number; windowsWithSuccess: number }

/**
 * Sends `runs` generated requests. Properties: never a 5xx; every error body is its surface's envelope; and
 * every window of `window` requests in which no write succeeded leaves every Management list unchanged.
 */
export async function fuzz(s: TestServer, ctx: FuzzContext, runs: number, window = 40): Promise<FuzzOutcome> {
  const out: FuzzOutcome = { requests: 0, statusCounts: {}, stateChecks: 0, windowsWithSuccess: 0 };
  let baseline = await stateDigest(s);
  let recent: string[] = [];
  let succeeded = false;
  await fc.assert(fc.asyncProperty(requestArb(ctx), async (req) => {
    const r = await s.t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload });
    out.requests++;
    const bucket = `${Math.floor(r.statusCode / 100)}xx`;
    out.statusCounts[bucket] = (out.statusCounts[bucket] ?? 0) + 1;
    const what = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${req.payload?.slice(0, 300) ?? ''}`;
    expect(r.statusCode, `${what}\n→ ${r.body.slice(0, 500)}`).toBeLessThan(500);
    if (req.method !== 'HEAD') expect(envelopeProblem(req.path, { status: r.statusCode, body: r.body, headers: r.headers }), what).toBeUndefined();
    if (r.statusCode < 400 && req.method !== 'GET' && req.method !== 'HEAD') succeeded = true; // a successful GET must change nothing either
    recent.push(`${r.statusCode} ${what}`);
    if (recent.length >= window) {
      const now = await stateDigest(s);
      if (succeeded) out.windowsWithSuccess++;
      else { out.stateChecks++; expect(now, `failed requests changed state:\n${recent.join('\n')}`).toBe(baseline); }
      baseline = now; recent = []; succeeded = false;
    }
  }), { numRuns: runs, endOnFailure: true });
  return out;
}

/** How many requests each fuzz file sends per dialect; TESSERA_FUZZ_REQUESTS overrides for a longer hunt. */
export const fuzzRuns = (fallback: number) => Number(process.env.TESSERA_FUZZ_REQUESTS ?? fallback);

/** Objects for generated requests to find: an API, clients, a grant, roles, a user, an organization. */
export async function fuzzFixture(s: TestServer): Promise<string[]> {
  const api = (await s.api('POST', '/resource-servers', { identifier: 'https://fuzz.example/api', scopes: [{ value: 'read:x' }] })).body;
  const m2m = (await s.api('POST', '/clients', { name: 'fuzz m2m', app_type: 'non_interactive', grant_types: ['client_credentials'] })).body;
  const web = (await s.api('POST', '/clients', { name: 'fuzz web', app_type: 'regular_web', callbacks: ['https://app.example/cb'], grant_types: ['authorization_code', 'password'] })).body;
  const grant = (await s.api('POST', '/client-grants', { client_id: m2m.client_id, audience: api.identifier, scope: ['read:x'] })).body;
  const role = (await s.api('POST', '/roles', { name: 'fuzz role' })).body;
  const user = (await s.api('POST', '/users', { connection: 'Username-Password-Authentication', email: 'fuzz@example.com', password: 'Fuzz-Password-1' })).body;
  const org = (await s.api('POST', '/organizations', { name: 'fuzz-org' })).body;
  const ids = [api.id, api.identifier, m2m.client_id, web.client_id, grant.id, role.id, user.user_id, org.id, org.name, 'read:x', 'https://app.example/cb'];
  for (const id of ids) expect(id, 'fixture').toEqual(expect.any(String));
  return ids;
}

/**
 * One fuzz suite per dialect over the Management operations `pick` selects (the read and write halves run as two
 * files so they run in parallel): never a 5xx, always the Management envelope, failed requests change nothing.
 */
export function fuzzManagementSuite(title: string, label: string, pick: (o: Operation) => boolean): void {
  eachDialect(title, (dialect) => {
    let s: TestServer;
    let ctx: FuzzContext;
    beforeAll(async () => {
      s = await startTessera(dialect);
      const ops = (await operationsOf(s)).filter((o) => isManagement(o.path) && pick(o));
      // a successful key rotation would retire the suite's own admin token: that route is only sent without one
      ctx = { ops, ids: await fuzzFixture(s), adminToken: await s.adminToken(), noAdmin: (o) => o.path === '/api/v2/keys/signing/rotate' };
    });
    afterAll(async () => { await s?.close(); });

    it('never a 5xx, always the Management envelope, failed requests change nothing', async () => {
      const runs = fuzzRuns(3400);
      const started = Date.now();
      const out = await fuzz(s, ctx, runs);
      console.log(`${label} [${dialect}]: ${out.requests} requests over ${ctx.ops.length} operations in ${Date.now() - started} ms, ${JSON.stringify(out.statusCounts)}, ${out.stateChecks} state checks (${out.windowsWithSuccess} windows with a successful write)`);
      expect(out.requests).toBe(runs);
    }, 120_000);
  });
}
