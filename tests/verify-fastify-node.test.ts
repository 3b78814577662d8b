import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import * as tv from '@tessera/verify';
import { fastifyAuth, requiredScopes as fastifyScopes } from '@tessera/verify/fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { bearer, call, echo, m2mTokens, startExpress } from './verify/fixture';

/**
 * @tessera/verify outside Express (the Fastify plugin, the framework-free verifier on node:http and on a WHATWG
 * Request), the JWKS cache under key rotation, and the checks Tessera's issuance cannot exercise (ES256/EdDSA
 * keys, clock tolerance, missing RFC 9068 claims, org_id): those tokens are built with jose and say so.
 */
const AUD = 'https://verify-frameworks.example/';
type Key = Parameters<SignJWT['sign']>[0];
let l: ListeningServer;
let caller: Awaited<ReturnType<typeof m2mTokens>>;

beforeAll(async () => {
  l = await startListening('sqlite');
  expect((await l.mgmt('POST', '/resource-servers', { identifier: AUD, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }] })).status).toBe(201);
  caller = await m2mTokens(l, [AUD], ['read:orders']);
}, 60_000);
afterAll(async () => { await l?.close(); });

describe('Fastify plugin', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    await app.register(fastifyAuth, { issuerBaseURL: l.origin, audience: AUD });
    app.get('/orders', { preHandler: fastifyScopes('read:orders') }, async (req) => ({ sub: req.auth?.payload.sub }));
    app.get('/orders/write', { preHandler: fastifyScopes('write:orders') }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => { await app?.close(); });

  it('sets request.auth for a valid token; 403 with the scope challenge when a scope is missing', async () => {
    const t = (await caller.token(AUD)).access_token;
    const ok = await app.inject({ url: '/orders', headers: { host: 'api.example', authorization: `Bearer ${t}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ sub: `${caller.client.client_id}@clients` });
    const denied = await app.inject({ url: '/orders/write', headers: { host: 'api.example', authorization: `Bearer ${t}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope", error_description="Insufficient Scope", scope="write:orders"');
  });

  it('401 with RFC 6750 challenges for no token and a tampered one', async () => {
    const none = await app.inject({ url: '/orders', headers: { host: 'api.example' } });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="api", DPoP algs="/);
    const bad = await app.inject({ url: '/orders', headers: { host: 'api.example', authorization: 'Bearer a.b.c' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});

describe('framework-free verifier', () => {
  let server: Server;
  let url: string;
  const verifier = () => tv.createVerifier({ issuerBaseURL: l.origin, audience: AUD });
  beforeAll(async () => {
    const v = verifier();
    server = createServer((req: IncomingMessage, res) => {
      v.verify(req).then((r) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r.payload)); }, (e) => {
        res.writeHead(e.status ?? 500, e.headers ?? {}).end(JSON.stringify({ error: e.code, message: e.message }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { server?.closeAllConnections(); await new Promise((ok) => server?.close(ok)); });

  it('node:http: verifies the IncomingMessage; refusals carry status and WWW-Authenticate', async () => {
    const t = (await caller.token(AUD)).access_token;
    expect(await call(`${url}/x`, bearer(t))).toMatchObject({ status: 200, body: { aud: AUD } });
    expect(await call(`${url}/x`)).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Bearer realm="api"/) });
  });

  it('a WHATWG Request (as Hono and other fetch-style servers hand it over)', async () => {
    const t = (await caller.token(AUD)).access_token;
    const v = verifier();
    expect((await v.verify(new Request('https://api.example/orders', { headers: { authorization: `Bearer ${t}` } }))).payload.aud).toBe(AUD);
    await expect(v.verify(new Request('https://api.example/orders', { headers: { Authorization: `Bearer ${t}x` } }))).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('configuration mistakes stop construction, not requests', () => {
    expect(() => tv.createVerifier({ issuerBaseURL: l.origin })).toThrow("An 'audience' is required");
    expect(() => tv.createVerifier({ issuer: 'https://x/', audience: AUD, secret: 's' })).toThrow("'tokenSigningAlg'");
    expect(() => tv.createVerifier({ issuerBaseURL: l.origin, audience: AUD, mcd: { issuers: [] } })).toThrow("'mcd'");
    expect(() => tv.createVerifier({ issuerBaseURL: l.origin, audience: AUD, requireEncryption: true })).toThrow("'decryptionKeys'");
    expect(() => tv.createVerifier({ issuerBaseURL: l.origin, audience: AUD, mtls: { proxyHeader: 'x-cert' } })).toThrow('trustedProxies');
  });
});

describe('signing-key rotation', () => {
  it('a token signed with the next Tessera key after a rotation is verified (the JWKS is fetched again for the new kid)', async () => {
    const rs = await startExpress((app) => { app.get('/', tv.auth({ issuerBaseURL: l.origin, audience: AUD, cooldownDuration: 0 }), echo); });
    try {
      const before = (await caller.token(AUD)).access_token;
      expect((await call(rs.url, bearer(before))).status).toBe(200);
      expect((await l.mgmt('POST', '/keys/signing/rotate')).status).toBe(201);
      const after = (await caller.token(AUD)).access_token;
      const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
      expect(kid(after)).not.toBe(kid(before));
      expect((await call(rs.url, bearer(after))).status).toBe(200);
    } finally { await rs.close(); }
  });

  it('a burst of tokens with an unknown kid makes one JWKS request; another unknown kid within the cooldown makes none', async () => {
    const a = await generateKeyPair('RS256');
    const b = await generateKeyPair('RS256');
    const c = await generateKeyPair('RS256');
    const keys: JWK[] = [{ ...await exportJWK(a.publicKey), kid: 'a', alg: 'RS256', use: 'sig' }];
    let hits = 0;
    const jwks = createServer((_req, res) => { hits++; setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })), 50); });
    await new Promise<void>((ok) => jwks.listen(0, '127.0.0.1', ok));
    const jwksUri = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    try {
      const v = tv.createVerifier({ issuer: 'https://jose-built.example/', jwksUri, audience: AUD, cooldownDuration: 300 });
      const sign = (k: Key, kid: string) => new SignJWT({ scope: 'read:orders' }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer('https://jose-built.example/')
        .setAudience(AUD).setSubject('s').setIssuedAt().setExpirationTime('5m').sign(k);
      const req = (t: string) => ({ method: 'GET', url: 'https://api.example/', headers: { authorization: `Bearer ${t}` } });
      await v.verify(req(await sign(a.privateKey, 'a')));
      expect(hits).toBe(1);
      keys.push({ ...await exportJWK(b.publicKey), kid: 'b', alg: 'RS256', use: 'sig' });
      const tb = await sign(b.privateKey, 'b');
      await new Promise((ok) => setTimeout(ok, 350)); // past the cooldown that follows the first fetch
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => v.verify(req(tb))));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(hits).toBe(2);
      await expect(v.verify(req(await sign(c.privateKey, 'c')))).rejects.toMatchObject({ status: 401, message: 'no applicable key found in the JSON Web Key Set' });
      expect(hits).toBe(2);
    } finally { jwks.closeAllConnections(); await new Promise((ok) => jwks.close(ok)); }
  });
});

describe('checks on tokens built with jose (Tessera does not issue these shapes)', () => {
  const ISS = 'https://jose-built.example/';
  let es: Awaited<ReturnType<typeof generateKeyPair>>;
  let ed: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => { es = await generateKeyPair('ES256'); ed = await generateKeyPair('EdDSA'); });
  const make = (claims: Record<string, unknown>, o: { key?: Key; alg?: string; typ?: string; exp?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: ISS, aud: AUD, sub: 'user-1', iat: now, exp: o.exp ?? now + 300, ...claims }).setProtectedHeader({ alg: o.alg ?? 'ES256', typ: o.typ ?? 'JWT' }).sign(o.key ?? es.privateKey);
  };
  const verify = async (token: string, extra: Partial<tv.AuthOptions> = {}, publicKey: unknown = es.publicKey) => {
    const jwk = await exportJWK(publicKey as never);
    return tv.createVerifier({ issuer: ISS, audience: AUD, publicKey: jwk as tv.PublicKeyInput, ...extra }).verify({ method: 'GET', url: 'https://api.example/', headers: { authorization: `Bearer ${token}` } });
  };

  it('ES256 and EdDSA with a static publicKey; an ES256 token against the EdDSA key is refused', async () => {
    expect((await verify(await make({}))).payload.sub).toBe('user-1');
    expect((await verify(await make({}, { key: ed.privateKey, alg: 'EdDSA' }), {}, ed.publicKey)).header.alg).toBe('EdDSA');
    await expect(verify(await make({}), {}, ed.publicKey)).rejects.toMatchObject({ status: 401 });
  });

  it('clockTolerance: 3 s past exp passes the default 5 s, not 0', async () => {
    const t = await make({}, { exp: Math.floor(Date.now() / 1000) - 3 });
    expect((await verify(t)).payload.sub).toBe('user-1');
    await expect(verify(t, { clockTolerance: 0 })).rejects.toMatchObject({ message: '"exp" claim timestamp check failed' });
  });

  it('strict (RFC 9068): typ at+jwt and client_id, jti, iat required', async () => {
    await expect(verify(await make({ client_id: 'c', jti: 'j' }), { strict: true })).rejects.toMatchObject({ message: "Unexpected 'typ' value" });
    await expect(verify(await make({ jti: 'j' }, { typ: 'at+jwt' }), { strict: true })).rejects.toMatchObject({ message: "Unexpected 'client_id' value" });
    await expect(verify(await make({ client_id: 'c' }, { typ: 'at+jwt' }), { strict: true })).rejects.toMatchObject({ message: "Unexpected 'jti' value" });
    expect((await verify(await make({ client_id: 'c', jti: 'j' }, { typ: 'application/at+jwt' }), { strict: true })).payload.client_id).toBe('c');
  });

  it('RBAC helpers: requiredPermissions and permissionsIncludeAny answer 403; requiredOrganization checks org_id, fixed or from the request', async () => {
    const c = tv.checks;
    const p = { permissions: ['read:orders'], org_id: 'org_1' };
    expect(() => c.requiredPermissions('read:orders')(p)).not.toThrow();
    expect(() => c.requiredPermissions(['read:orders', 'write:orders'])(p)).toThrow(expect.objectContaining({ status: 403, headers: { 'WWW-Authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="Insufficient Permissions", scope="read:orders write:orders"' } }));
    expect(() => c.permissionsIncludeAny(['write:orders', 'read:orders'])(p)).not.toThrow();
    expect(() => c.requiredPermissions('read:orders')({ scope: 'read:orders' })).toThrow(expect.objectContaining({ status: 403, message: "Missing 'permissions' claim" }));
    expect(() => c.requiredOrganization('org_1')(p)).not.toThrow();
    expect(() => c.requiredOrganization(['org_2', 'org_3'])(p)).toThrow(expect.objectContaining({ status: 403, message: "Unexpected 'org_id' value" }));
    expect(() => c.requiredOrganization('org_1')({ sub: 'x' })).toThrow(expect.objectContaining({ status: 403, message: "Missing 'org_id' claim" }));
    const byRoute = c.requiredOrganization((req: { params: { org: string } }) => req.params.org);
    expect(() => byRoute(p, { params: { org: 'org_1' } })).not.toThrow();
    expect(() => byRoute(p, { params: { org: 'org_9' } })).toThrow(expect.objectContaining({ status: 403 }));
  });
});
