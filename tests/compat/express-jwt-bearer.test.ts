// express-oauth2-jwt-bearer (Auth0's API middleware) protecting a small Express API with Tessera tokens:
// discovery and JWKS over HTTPS from `issuerBaseURL`, every dialect × algorithm, RFC 9068 `strict`, scopes,
// permissions, and the usual rejections.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SignJWT, decodeJwt } from 'jose';
import express, { type ErrorRequestHandler } from 'express';
import { auth, claimIncludes, requiredScopes, type AuthOptions } from 'express-oauth2-jwt-bearer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachTarget, type Target } from './setup/targets';
import { apiFixture, m2mClientFor, mgmt, tokenRequest, unique } from './setup/http';

const DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
const ALGS = ['RS256', 'PS256', 'HS256'] as const;
const HS_SECRET = 'compat-shared-secret-for-hs256-apis-0123456789';

interface Api { dialect: string; alg: string; audience: string }

async function startApi(target: Target, apis: Api[]): Promise<{ server: Server; url: string }> {
  const app = express();
  const base: AuthOptions = { issuerBaseURL: target.baseUrl };
  for (const api of apis) {
    const opts: AuthOptions = { ...base, audience: api.audience, strict: api.dialect.startsWith('rfc9068') };
    if (api.alg === 'HS256') Object.assign(opts, { secret: HS_SECRET, tokenSigningAlg: 'HS256' });
    app.get(`/${api.dialect}/${api.alg}`, auth(opts), (req, res) => { res.json({ header: req.auth?.header, payload: req.auth?.payload }); });
  }
  const orders = apis.find((a) => a.dialect === 'rfc9068_profile_authz' && a.alg === 'PS256') as Api;
  app.get('/orders', auth({ ...base, audience: orders.audience, strict: true }), requiredScopes('read:orders'), (_req, res) => { res.json({ ok: true }); });
  app.get('/orders/write', auth({ ...base, audience: orders.audience, strict: true }), claimIncludes('permissions', 'write:orders'), (_req, res) => { res.json({ ok: true }); });
  const plain = apis.find((a) => a.dialect === 'access_token' && a.alg === 'RS256') as Api;
  app.get('/strict-plain', auth({ ...base, audience: plain.audience, strict: true }), (_req, res) => { res.json({ ok: true }); });
  app.get('/no-tolerance', auth({ ...base, audience: plain.audience, clockTolerance: 0 }), (_req, res) => { res.json({ ok: true }); });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.code, message: err.message });
  };
  app.use(onError);
  const server = await new Promise<Server>((ok) => { const s = app.listen(0, '127.0.0.1', () => ok(s)); });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

forEachTarget('express-oauth2-jwt-bearer', (target) => {
  const tag = unique('ejb');
  const apis: Api[] = [];
  let rs: { server: Server; url: string };
  let reader: { client_id: string; client_secret: string };
  let writer: { client_id: string; client_secret: string };

  const token = async (who: { client_id: string; client_secret: string }, audience: string) => {
    const r = await tokenRequest(target, { grant_type: 'client_credentials', client_id: who.client_id, client_secret: who.client_secret, audience });
    expect(r.status).toBe(200);
    return r.body.access_token as string;
  };
  const call = (path: string, tok: string) => fetch(`${rs.url}${path}`, { headers: { authorization: `Bearer ${tok}` } });

  beforeAll(async () => {
    for (const dialect of DIALECTS) {
      for (const alg of ALGS) {
        const audience = `https://${tag}.example.test/${dialect}/${alg}`;
        await apiFixture(target, {
          identifier: audience, signing_alg: alg, token_dialect: dialect, enforce_policies: dialect.endsWith('_authz'),
          ...(alg === 'HS256' ? { signing_secret: HS_SECRET } : {}),
          scopes: [{ value: 'read:orders' }, { value: 'write:orders' }],
        });
        apis.push({ dialect, alg, audience });
      }
    }
    reader = await m2mClientFor(target, apis[0].audience, ['read:orders']);
    writer = await m2mClientFor(target, apis[0].audience, ['write:orders']);
    for (const api of apis.slice(1)) {
      await mgmt(target, 'POST', '/client-grants', { client_id: reader.client_id, audience: api.audience, scope: ['read:orders'] });
      await mgmt(target, 'POST', '/client-grants', { client_id: writer.client_id, audience: api.audience, scope: ['write:orders'] });
    }
    rs = await startApi(target, apis);
  });
  afterAll(async () => { rs?.server.closeAllConnections(); await new Promise((ok) => rs?.server.close(ok)); });

  describe('accepts every dialect and algorithm', () => {
    for (const dialect of DIALECTS) {
      for (const alg of ALGS) {
        it(`${dialect} / ${alg}${dialect.startsWith('rfc9068') ? ' (strict: true)' : ''}`, async () => {
          const api = apis.find((a) => a.dialect === dialect && a.alg === alg) as Api;
          const res = await call(`/${dialect}/${alg}`, await token(reader, api.audience));
          expect(res.status).toBe(200);
          const { header, payload } = await res.json();
          expect(header).toMatchObject({ alg, typ: dialect.startsWith('rfc9068') ? 'at+jwt' : 'JWT' });
          if (alg !== 'HS256') expect(header.kid).toEqual(expect.any(String));
          expect(payload).toMatchObject({ iss: target.issuer, aud: api.audience, sub: `${reader.client_id}@clients`, scope: 'read:orders' });
          if (dialect.endsWith('_authz')) expect(payload.permissions).toEqual(['read:orders']);
          else expect(payload.permissions).toBeUndefined();
          if (dialect.startsWith('rfc9068')) expect(payload).toMatchObject({ client_id: reader.client_id, jti: expect.any(String), iat: expect.any(Number) });
          else expect(payload).toMatchObject({ azp: reader.client_id, gty: 'client-credentials' });
        });
      }
    }
  });

  describe('authorization checks', () => {
    it('requiredScopes(read:orders): 200 with the scope, 403 insufficient_scope without', async () => {
      const audience = apis.find((a) => a.dialect === 'rfc9068_profile_authz' && a.alg === 'PS256')?.audience as string;
      expect((await call('/orders', await token(reader, audience))).status).toBe(200);
      const denied = await call('/orders', await token(writer, audience));
      expect(denied.status).toBe(403);
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="api", error="insufficient_scope", error_description="Insufficient Scope", scope="read:orders"');
    });

    it("claimIncludes('permissions', 'write:orders'): 200 when granted; the library answers 401 invalid_token otherwise", async () => {
      const audience = apis.find((a) => a.dialect === 'rfc9068_profile_authz' && a.alg === 'PS256')?.audience as string;
      expect((await call('/orders/write', await token(writer, audience))).status).toBe(200);
      const denied = await call('/orders/write', await token(reader, audience));
      expect(denied.status).toBe(401);
      expect(await denied.json()).toEqual({ error: 'invalid_token', message: "Unexpected 'permissions' value" });
    });

    it('strict: true refuses the Auth0 access_token dialect (typ JWT)', async () => {
      const audience = apis.find((a) => a.dialect === 'access_token' && a.alg === 'RS256')?.audience as string;
      const res = await call('/strict-plain', await token(reader, audience));
      expect(res.status).toBe(401);
      expect((await res.json()).message).toBe("Unexpected 'typ' value");
    });
  });

  describe('rejections', () => {
    it('a token for another audience → 401', async () => {
      const other = apis.find((a) => a.dialect === 'access_token' && a.alg === 'PS256')?.audience as string;
      const res = await call('/access_token/RS256', await token(reader, other));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token', message: "Unexpected 'aud' value" });
    });

    it('a tampered token (payload changed, signature kept) → 401', async () => {
      const audience = apis.find((a) => a.dialect === 'access_token' && a.alg === 'RS256')?.audience as string;
      const [h, p, s] = (await token(reader, audience)).split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read:orders write:orders' })).toString('base64url')}.${s}`;
      const res = await call('/access_token/RS256', forged);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token', message: 'signature verification failed' });
    });

    it('an HS256 token re-signed with another secret → 401', async () => {
      const audience = apis.find((a) => a.dialect === 'access_token' && a.alg === 'HS256')?.audience as string;
      const claims = decodeJwt(await token(reader, audience));
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode('another-secret-of-sufficient-length-000'));
      const res = await call('/access_token/HS256', forged);
      expect(res.status).toBe(401);
    });

    it('an expired token → 401', async () => {
      const plain = apis.find((a) => a.dialect === 'access_token' && a.alg === 'RS256') as Api;
        const patched = await mgmt(target, 'PATCH', `/resource-servers/${encodeURIComponent(plain.audience)}`, { token_lifetime: 1 });
      expect(patched.status).toBe(200);
      const tok = await token(reader, plain.audience);
      await mgmt(target, 'PATCH', `/resource-servers/${encodeURIComponent(plain.audience)}`, { token_lifetime: 86400 });
      await new Promise((ok) => setTimeout(ok, 2100));
      const res = await call('/no-tolerance', tok);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token', message: '"exp" claim timestamp check failed' });
    });
  });
});
