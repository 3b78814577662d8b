import { createHmac, createPublicKey } from 'node:crypto';
import type { Express } from 'express';
import * as ejb from 'express-oauth2-jwt-bearer';
import * as tv from '@tessera/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { bearer, call, echo, m2mTokens, rsaPair, startExpress, tamper, type Answer } from './verify/fixture';

/**
 * @tessera/verify beside express-oauth2-jwt-bearer 1.10 (the judge), on the same routes with the same options,
 * on tokens from a real Tessera on a socket (discovery and JWKS over HTTP): every dialect × RS256/PS256/HS256,
 * the claim helpers, and the refusals. Status, body and `WWW-Authenticate` must be the same from both.
 * The verifier touches no storage, so one SQLite server is enough.
 */
const DIALECTS = ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] as const;
const ALGS = ['RS256', 'PS256', 'HS256'] as const;
const HS_SECRET = 'verify-shared-secret-for-hs256-apis-0123456789';
const LIBS = { ejb, tv } as unknown as Record<'ejb' | 'tv', typeof ejb>;
const aud = (dialect: string, alg: string) => `https://verify-${dialect}-${alg.toLowerCase()}.example/`;
const JWE_AUD = 'https://verify-jwe.example/';

let l: ListeningServer;
const rs256 = () => reader.token(aud('access_token', 'RS256')).then((r) => r.access_token);
let rs: { url: string; close(): Promise<void> };
let reader: Awaited<ReturnType<typeof m2mTokens>>;
let writer: Awaited<ReturnType<typeof m2mTokens>>;
const jweKey = rsaPair();
const otherKey = rsaPair();

function mount(app: Express, name: 'ejb' | 'tv', issuerBaseURL: string) {
  const lib = LIBS[name];
  const p = `/${name}`;
  for (const d of DIALECTS) {
    for (const alg of ALGS) {
      const opts: ejb.AuthOptions = { issuerBaseURL, audience: aud(d, alg), strict: d.startsWith('rfc9068'), ...(alg === 'HS256' ? { secret: HS_SECRET, tokenSigningAlg: 'HS256' } : {}) };
      app.get(`${p}/${d}/${alg}`, lib.auth(opts), echo);
    }
  }
  const plain = lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256') });
  const authz = lib.auth({ issuerBaseURL, audience: aud('access_token_authz', 'RS256') });
  app.get(`${p}/scope/read`, plain, lib.requiredScopes('read:orders'), echo);
  app.get(`${p}/scope/both`, plain, lib.requiredScopes(['read:orders', 'write:orders']), echo);
  app.get(`${p}/scope/any`, plain, lib.scopeIncludesAny('write:orders read:orders'), echo);
  app.get(`${p}/scope/none`, plain, lib.scopeIncludesAny(['admin']), echo);
  app.get(`${p}/perm/read`, authz, lib.claimIncludes('permissions', 'read:orders'), echo);
  app.get(`${p}/perm/write`, authz, lib.claimIncludes('permissions', 'write:orders'), echo);
  app.get(`${p}/gty`, plain, lib.claimEquals('gty', 'client-credentials'), echo);
  app.get(`${p}/gty-wrong`, plain, lib.claimEquals('gty', 'password'), echo);
  app.get(`${p}/org`, plain, lib.claimEquals('org_id', 'org_123'), echo);
  app.get(`${p}/check`, plain, lib.claimCheck((c) => String(c.sub).endsWith('@clients'), 'not a client'), echo);
  app.get(`${p}/check-no`, plain, lib.claimCheck((c) => c.sub === 'nobody', 'not nobody'), echo);
  app.get(`${p}/strict-plain`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), strict: true }), echo);
  app.get(`${p}/no-tolerance`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), clockTolerance: 0 }), echo);
  app.get(`${p}/max-age`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), maxTokenAge: 60 }), echo);
  app.get(`${p}/pinned-ps`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), tokenSigningAlg: 'PS256' }), echo);
  app.get(`${p}/other-iss`, lib.auth({ issuer: 'https://other.example/', jwksUri: `${issuerBaseURL}/.well-known/jwks.json`, audience: aud('access_token', 'RS256') }), echo);
  app.get(`${p}/optional`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), authRequired: false }), echo);
  app.get(`${p}/validators`, lib.auth({ issuerBaseURL, audience: aud('access_token', 'RS256'), validators: { gty: 'password' } }), echo);
  app.get(`${p}/jwe`, lib.auth({ issuerBaseURL, audience: JWE_AUD }), echo);
}

beforeAll(async () => {
  l = await startListening('sqlite');
  const audiences: string[] = [];
  for (const d of DIALECTS) {
    for (const alg of ALGS) {
      const r = await l.mgmt('POST', '/resource-servers', {
        identifier: aud(d, alg), signing_alg: alg, token_dialect: d, enforce_policies: d.endsWith('_authz'),
        ...(alg === 'HS256' ? { signing_secret: HS_SECRET } : {}), scopes: [{ value: 'read:orders' }, { value: 'write:orders' }],
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      audiences.push(aud(d, alg));
    }
  }
  const jwe = await l.mgmt('POST', '/resource-servers', {
    identifier: JWE_AUD, scopes: [{ value: 'read:orders' }],
    token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'k1', alg: 'RSA-OAEP-256', pem: jweKey.publicPem, kid: 'jwe-1' } },
  });
  expect(jwe.status, JSON.stringify(jwe.body)).toBe(201);
  reader = await m2mTokens(l, [...audiences, JWE_AUD], ['read:orders']);
  writer = await m2mTokens(l, audiences, ['write:orders']);
  rs = await startExpress((app) => {
    mount(app, 'ejb', l.origin);
    mount(app, 'tv', l.origin);
    app.get('/tv-jwe/ok', tv.auth({ issuerBaseURL: l.origin, audience: JWE_AUD, decryptionKeys: [otherKey.privatePem, { key: jweKey.privateKey, kid: 'jwe-1' }] }), echo);
    app.get('/tv-jwe/wrong-key', tv.auth({ issuerBaseURL: l.origin, audience: JWE_AUD, decryptionKeys: [otherKey.privatePem] }), echo);
    app.get('/tv-jwe/required', tv.auth({ issuerBaseURL: l.origin, audience: aud('access_token', 'RS256'), decryptionKeys: [jweKey.privatePem], requireEncryption: true }), echo);
  });
}, 60_000);
afterAll(async () => { await rs?.close(); await l?.close(); });

/** The same request to both libraries' route; both answers must be equal, and that answer is returned. */
async function both(path: string, init: RequestInit = {}): Promise<Answer> {
  const [a, b] = await Promise.all([call(`${rs.url}/ejb${path}`, init), call(`${rs.url}/tv${path}`, init)]);
  expect(b).toEqual(a);
  return b;
}

describe('accepts what express-oauth2-jwt-bearer accepts, with the same req.auth', () => {
  for (const d of DIALECTS) {
    for (const alg of ALGS) {
      it(`${d} / ${alg}${d.startsWith('rfc9068') ? ' (strict: true)' : ''}`, async () => {
        const { access_token } = await reader.token(aud(d, alg));
        const r = await both(`/${d}/${alg}`, bearer(access_token));
        expect(r.status).toBe(200);
        expect(r.body.auth.token).toBe(access_token);
        expect(r.body.auth.header).toMatchObject({ alg, typ: d.startsWith('rfc9068') ? 'at+jwt' : 'JWT' });
        expect(r.body.auth.payload).toMatchObject({ iss: `${l.origin}/`, aud: aud(d, alg), sub: `${reader.client.client_id}@clients`, scope: 'read:orders' });
      });
    }
  }
});

describe('claim helpers answer alike', () => {
  it('requiredScopes: 200 with the scope, 403 insufficient_scope with scope="…" without', async () => {
    const t = (await reader.token(aud('access_token', 'RS256'))).access_token;
    expect((await both('/scope/read', bearer(t))).status).toBe(200);
    const denied = await both('/scope/both', bearer(t));
    expect(denied).toMatchObject({ status: 403, body: { error: 'insufficient_scope', message: 'Insufficient Scope' } });
    expect(denied.challenge).toBe('Bearer realm="api", error="insufficient_scope", error_description="Insufficient Scope", scope="read:orders write:orders"');
  });

  it('scopeIncludesAny: one of the listed scopes is enough', async () => {
    const t = (await reader.token(aud('access_token', 'RS256'))).access_token;
    expect((await both('/scope/any', bearer(t))).status).toBe(200);
    expect((await both('/scope/none', bearer(t))).status).toBe(403);
  });

  it("claimIncludes('permissions'): 200 when granted, 401 Unexpected 'permissions' value otherwise", async () => {
    const r = (await reader.token(aud('access_token_authz', 'RS256'))).access_token;
    expect((await both('/perm/read', bearer(r))).status).toBe(200);
    expect(await both('/perm/write', bearer(r))).toMatchObject({ status: 401, body: { error: 'invalid_token', message: "Unexpected 'permissions' value" } });
  });

  it('claimEquals and claimCheck, including a missing claim', async () => {
    const t = (await reader.token(aud('access_token', 'RS256'))).access_token;
    expect((await both('/gty', bearer(t))).status).toBe(200);
    expect((await both('/gty-wrong', bearer(t))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'gty' value" });
    expect((await both('/org', bearer(t))).body).toEqual({ error: 'invalid_token', message: "Missing 'org_id' claim" });
    expect((await both('/check', bearer(t))).status).toBe(200);
    expect((await both('/check-no', bearer(t))).body).toEqual({ error: 'invalid_token', message: 'not nobody' });
  });

  it('custom validators and authRequired: false', async () => {
    const t = (await reader.token(aud('access_token', 'RS256'))).access_token;
    expect((await both('/validators', bearer(t))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'gty' value" });
    expect(await both('/optional')).toMatchObject({ status: 200, body: { auth: null } });
    expect(await both('/optional', bearer('garbage'))).toMatchObject({ status: 200, body: { auth: null } });
    expect((await both('/optional', bearer(t))).body.auth.payload.sub).toMatch(/@clients$/);
  });
});

describe('refuses what express-oauth2-jwt-bearer refuses, with the same answer', () => {


  it('no credentials: 401 with the bare Bearer and DPoP challenges (RFC 6750 §3.1)', async () => {
    const r = await both('/access_token/RS256');
    expect(r.status).toBe(401);
    expect(r.challenge).toBe('Bearer realm="api", DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K ES384 ES512 EdDSA"');
  });

  it('a malformed Authorization header, an unknown scheme, two token locations', async () => {
    expect((await both('/access_token/RS256', { headers: { authorization: 'Bearer a b' } })).status).toBe(400);
    expect((await both('/access_token/RS256', { headers: { authorization: 'Basic abc' } })).status).toBe(400);
    const t = await rs256();
    const two = await both(`/access_token/RS256?access_token=${t}`, bearer(t));
    expect(two).toMatchObject({ status: 400, body: { error: 'invalid_request', message: 'More than one method used for authentication' } });
  });

  it('a token in the query string is accepted like the header', async () => {
    expect((await both(`/access_token/RS256?access_token=${await rs256()}`)).status).toBe(200);
  });

  it('another audience', async () => {
    const r = await both('/access_token/RS256', bearer((await reader.token(aud('access_token', 'PS256'))).access_token));
    expect(r).toMatchObject({ status: 401, body: { error: 'invalid_token', message: "Unexpected 'aud' value" } });
    expect(r.challenge).toBe(`Bearer realm="api", error="invalid_token", error_description="Unexpected 'aud' value", DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K ES384 ES512 EdDSA"`);
  });

  it('another issuer', async () => {
    expect((await both('/other-iss', bearer(await rs256()))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'iss' value" });
  });

  it('a tampered token, RS256 and HS256', async () => {
    expect((await both('/access_token/RS256', bearer(tamper(await rs256(), { scope: 'read:orders write:orders' })))).body).toEqual({ error: 'invalid_token', message: 'signature verification failed' });
    const hs = (await reader.token(aud('access_token', 'HS256'))).access_token;
    expect((await both('/access_token/HS256', bearer(tamper(hs, { scope: 'write:orders' })))).body).toEqual({ error: 'invalid_token', message: 'signature verification failed' });
  });

  it('wrong algorithms: HS256 at an RS256 API, RS256 at an HS256 API, alg none, an alg other than the pinned one', async () => {
    const hs = (await reader.token(aud('access_token', 'HS256'))).access_token;
    expect((await both('/access_token/RS256', bearer(hs))).status).toBe(401);
    expect((await both('/access_token/HS256', bearer(await rs256()))).status).toBe(401);
    const [, p] = (await rs256()).split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect((await both('/access_token/RS256', bearer(none))).status).toBe(401);
    expect((await both('/pinned-ps', bearer(await rs256()))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'alg' value" });
  });

  it('alg confusion: an HS256 token keyed with the issuer RSA public key', async () => {
    const jwks = await (await fetch(`${l.origin}/.well-known/jwks.json`)).json();
    const pem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const [, p] = (await rs256()).split('.');
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwks.keys[0].kid })).toString('base64url');
    const forged = `${h}.${p}.${createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url')}`;
    expect((await both('/access_token/RS256', bearer(forged))).status).toBe(401);
  });

  it('an access_token-dialect token (typ JWT) under strict: true', async () => {
    expect((await both('/strict-plain', bearer(await rs256()))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'typ' value" });
  });

  it('an expired token (and one past maxTokenAge)', async () => {
    l.s.clock.advance(-(86400 + 60));
    let expired: string;
    try { expired = await rs256(); } finally { l.s.clock.advance(86400 + 60); }
    const r = await both('/no-tolerance', bearer(expired));
    expect(r.body).toEqual({ error: 'invalid_token', message: '"exp" claim timestamp check failed' });
    expect(r.challenge).toContain('error_description="\'exp\' claim timestamp check failed"');
    l.s.clock.advance(-120);
    let old: string;
    try { old = await rs256(); } finally { l.s.clock.advance(120); }
    expect((await both('/max-age', bearer(old))).body).toEqual({ error: 'invalid_token', message: "Unexpected 'iat' value" });
  });

  it('garbage in the header', async () => {
    expect((await both('/access_token/RS256', bearer('not-a-jwt'))).status).toBe(401);
    expect((await both('/access_token/RS256', bearer('a.b.c'))).status).toBe(401);
  });
});

describe('encrypted (JWE) access tokens', () => {
  it('express-oauth2-jwt-bearer cannot open them; neither does @tessera/verify without decryptionKeys', async () => {
    const { access_token } = await reader.token(JWE_AUD);
    expect(access_token.split('.')).toHaveLength(5);
    expect(await both('/jwe', bearer(access_token))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  it('decrypts with the key named by kid among several, then verifies the inner token; req.auth.token is the JWE as sent', async () => {
    const { access_token } = await reader.token(JWE_AUD);
    const r = await call(`${rs.url}/tv-jwe/ok`, bearer(access_token));
    expect(r.status).toBe(200);
    expect(r.body.auth).toMatchObject({ token: access_token, header: { alg: 'RS256', typ: 'JWT' }, payload: { aud: JWE_AUD, scope: 'read:orders' } });
  });

  it('an undecryptable JWE (only another key), a tampered JWE, and a plain token where encryption is required', async () => {
    const { access_token } = await reader.token(JWE_AUD);
    expect(await call(`${rs.url}/tv-jwe/wrong-key`, bearer(access_token))).toMatchObject({ status: 401, body: { error: 'invalid_token', message: 'decryption operation failed' } });
    const parts = access_token.split('.');
    parts[3] = Buffer.from('x'.repeat(40)).toString('base64url');
    expect(await call(`${rs.url}/tv-jwe/ok`, bearer(parts.join('.')))).toMatchObject({ status: 401, body: { message: 'decryption operation failed' } });
    expect(await call(`${rs.url}/tv-jwe/required`, bearer(await rs256()))).toMatchObject({ status: 401, body: { message: 'Access token is not encrypted' } });
  });
});
