import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { auth, claimIncludes, requiredScopes } from 'express-oauth2-jwt-bearer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { eachDialect } from './helpers/tessera';
import { rsaPublicPem } from './helpers/management';

/**
 * Auth0's own API middleware as an independent judge (shared/reference/clients.md §1.5): it discovers
 * the issuer from /.well-known/openid-configuration, fetches the JWKS, and checks iss, aud, exp, alg
 * (against id_token_signing_alg_values_supported) and, with strict: true, RFC 9068.
 */
const APIS = {
  rs256: { identifier: 'https://rs256.example/', signing_alg: 'RS256', token_dialect: 'access_token_authz', enforce_policies: true },
  ps256: { identifier: 'https://ps256.example/', signing_alg: 'PS256', token_dialect: 'rfc9068_profile_authz', enforce_policies: true },
  rs9068: { identifier: 'https://rs9068.example/', signing_alg: 'RS256', token_dialect: 'rfc9068_profile' },
  hs256: { identifier: 'https://hs256.example/', signing_alg: 'HS256', token_dialect: 'access_token' },
  jwe: { identifier: 'https://jwe.example/', signing_alg: 'RS256', token_dialect: 'access_token', token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: rsaPublicPem() } } },
} as const;
type ApiName = keyof typeof APIS;

eachDialect('express-oauth2-jwt-bearer validates Tessera tokens', (dialect) => {
  let l: ListeningServer;
  let rs: Server;
  let rsOrigin: string;
  let params: Record<string, string>;
  let hsSecret: string;

  const token = async (api: ApiName, scope?: string) => {
    const r = await l.s.token({ ...params, audience: APIS[api].identifier, ...(scope ? { scope } : {}) });
    expect(r.status).toBe(200);
    return r.body.access_token as string;
  };
  const call = async (path: string, bearer: string) => {
    const res = await fetch(`${rsOrigin}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') };
  };

  beforeAll(async () => {
    l = await startListening(dialect);
    const client = await l.mgmt('POST', '/clients', { name: 'Orders caller', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    params = { grant_type: 'client_credentials', client_id: client.body.client_id, client_secret: client.body.client_secret };
    for (const api of Object.values(APIS)) {
      const created = await l.mgmt('POST', '/resource-servers', { ...api, scopes: [{ value: 'read:orders' }, { value: 'write:orders' }] });
      expect(created.status).toBe(201);
      if (api.signing_alg === 'HS256') hsSecret = created.body.signing_secret;
      expect((await l.mgmt('POST', '/client-grants', { client_id: client.body.client_id, audience: api.identifier, scope: ['read:orders'] })).status).toBe(201);
    }

    const issuerBaseURL = l.origin;
    const app = express();
    const ok = (_req: express.Request, res: express.Response) => { res.json({ sub: _req.auth?.payload.sub, scope: _req.auth?.payload.scope ?? null }); };
    const rs256 = auth({ issuerBaseURL, audience: APIS.rs256.identifier });
    app.get('/rs256', rs256, ok);
    app.get('/rs256/read', rs256, requiredScopes('read:orders'), ok);
    app.get('/rs256/write', rs256, requiredScopes('write:orders'), ok);
    app.get('/rs256/perm-read', rs256, claimIncludes('permissions', 'read:orders'), ok);
    app.get('/rs256/perm-write', rs256, claimIncludes('permissions', 'write:orders'), ok);
    app.get('/rs256/strict', auth({ issuerBaseURL, audience: APIS.rs256.identifier, strict: true }), ok);
    app.get('/ps256/strict', auth({ issuerBaseURL, audience: APIS.ps256.identifier, strict: true, tokenSigningAlg: 'PS256' }), requiredScopes('read:orders'), claimIncludes('permissions', 'read:orders'), ok);
    app.get('/rs9068/strict', auth({ issuerBaseURL, audience: APIS.rs9068.identifier, strict: true }), requiredScopes('read:orders'), ok);
    app.get('/jwe', auth({ issuerBaseURL, audience: APIS.jwe.identifier }), ok);
    app.get('/hs256', auth({ issuerBaseURL, audience: APIS.hs256.identifier, secret: hsSecret, tokenSigningAlg: 'HS256' }), requiredScopes('read:orders'), ok);
    const onError: ErrorRequestHandler = (err, _req, res, _next) => { res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.code ?? 'server_error' }); };
    app.use(onError);
    rs = await new Promise<Server>((resolve) => { const srv = app.listen(0, '127.0.0.1', () => resolve(srv)); });
    rsOrigin = `http://127.0.0.1:${(rs.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => rs?.close(r));
    await l.close();
  });

  describe('accepts', () => {
    it('an RS256 token, with requiredScopes and claimIncludes(permissions) satisfied', async () => {
      const t = await token('rs256');
      expect(await call('/rs256/read', t)).toEqual({ status: 200, body: { sub: `${params.client_id}@clients`, scope: 'read:orders' }, challenge: null });
      expect((await call('/rs256/perm-read', t)).status).toBe(200);
    });

    it('a PS256 rfc9068_profile_authz token under strict: true', async () => {
      expect(await call('/ps256/strict', await token('ps256'))).toEqual({ status: 200, body: { sub: `${params.client_id}@clients`, scope: 'read:orders' }, challenge: null });
    });

    it('an RS256 rfc9068_profile token under strict: true', async () => {
      expect((await call('/rs9068/strict', await token('rs9068'))).status).toBe(200);
    });

    it('an HS256 token verified with the API signing_secret', async () => {
      expect(await call('/hs256', await token('hs256'))).toEqual({ status: 200, body: { sub: `${params.client_id}@clients`, scope: 'read:orders' }, challenge: null });
    });
  });

  describe('rejects', () => {
    it('a scope the token lacks with 403 insufficient_scope', async () => {
      const r = await call('/rs256/write', await token('rs256'));
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ error: 'insufficient_scope' });
      expect(r.challenge).toContain('error="insufficient_scope"');
    });

    it('a permission the token lacks with 401 invalid_token', async () => {
      const r = await call('/rs256/perm-write', await token('rs256'));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token' });
    });

    it('an access_token-dialect token (typ JWT) under strict: true', async () => {
      const r = await call('/rs256/strict', await token('rs256'));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token' });
    });

    it('a token for another audience', async () => {
      const r = await call('/rs256', await token('ps256'));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token' });
    });

    it('an expired token', async () => {
      l.s.clock.advance(-(86400 + 60));
      let expired: string;
      try { expired = await token('rs256'); } finally { l.s.clock.advance(86400 + 60); }
      const r = await call('/rs256', expired);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token' });
      expect(r.challenge).toContain("'exp' claim timestamp check failed");
    });

    it('a tampered token (claims edited, signature kept), RS256 and HS256', async () => {
      for (const [path, api] of [['/rs256', 'rs256'], ['/hs256', 'hs256']] as const) {
        const [h, p, sig] = (await token(api)).split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read:orders write:orders' })).toString('base64url')}.${sig}`;
        const r = await call(path, forged);
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ error: 'invalid_token' });
      }
    });

    it('an HS256 token at an RS256 API and vice versa', async () => {
      expect((await call('/rs256', await token('hs256'))).status).toBe(401);
      expect((await call('/hs256', await token('rs256'))).status).toBe(401);
    });

    it('an encrypted (JWE) access token: the middleware cannot decrypt, so it refuses it with 401 invalid_token', async () => {
      const jwe = await token('jwe');
      expect(jwe.split('.')).toHaveLength(5);
      const r = await call('/jwe', jwe);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token' });
    });
  });
});
