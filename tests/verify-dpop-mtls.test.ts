import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { SignJWT } from 'jose';
import * as ejb from 'express-oauth2-jwt-bearer';
import * as tv from '@tessera/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from './helpers/certs';
import { startListening, type ListeningServer } from './helpers/listening';
import { ath, proof, proofKey, type ProofKey } from './security/dpop';
import { clientCert, overTls, type ClientCert } from './security/mtls';
import { bearer, call, echo, m2mTokens, renderError, rsaPair, startExpress, type Answer } from './verify/fixture';

/**
 * Sender-constrained tokens issued by a real Tessera: DPoP-bound (cnf.jkt, RFC 9449) and certificate-bound
 * (cnf x5t#S256, RFC 8705, the certificate handed to Tessera by a trusted proxy header). Each DPoP scenario runs
 * against express-oauth2-jwt-bearer 1.10 and @tessera/verify with a proof made for each route; where the two
 * differ (replayed proofs, nonces, bound tokens with the check turned off) the test says so.
 */
const DPOP_AUD = 'https://verify-dpop.example/';
const MTLS_AUD = 'https://verify-mtls.example/';
const SEALED_AUD = 'https://verify-dpop-jwe.example/';
const sealKey = rsaPair();
const PROXY = 'x-client-cert';
const ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K ES384 ES512 EdDSA';

let l: ListeningServer;
let rs: { url: string; close(): Promise<void> };
let caller: Awaited<ReturnType<typeof m2mTokens>>;
let key: ProofKey;
let dpopToken: string;
const replays: string[] = [];

function mount(app: Express, name: 'ejb' | 'tv', issuerBaseURL: string) {
  const lib = (name === 'ejb' ? ejb : tv) as typeof ejb;
  app.get(`/${name}/dpop`, lib.auth({ issuerBaseURL, audience: DPOP_AUD }), echo);
  app.get(`/${name}/dpop-required`, lib.auth({ issuerBaseURL, audience: DPOP_AUD, dpop: { required: true } }), echo);
  app.get(`/${name}/plain-required`, lib.auth({ issuerBaseURL, audience: MTLS_AUD, dpop: { required: true } }), echo);
}

beforeAll(async () => {
  l = await startListening('sqlite', { env: { TESSERA_MTLS_PROXY_HEADER: PROXY, TESSERA_MTLS_TRUSTED_PROXIES: '127.0.0.1' } });
  for (const [identifier, mechanism] of [[DPOP_AUD, 'dpop'], [MTLS_AUD, 'mtls']]) {
    const r = await l.mgmt('POST', '/resource-servers', { identifier, scopes: [{ value: 'read:orders' }], proof_of_possession: { mechanism, required: true } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const sealed = await l.mgmt('POST', '/resource-servers', {
    identifier: SEALED_AUD, scopes: [{ value: 'read:orders' }], proof_of_possession: { mechanism: 'dpop', required: true },
    token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'k', alg: 'RSA-OAEP-256', pem: sealKey.publicPem } },
  });
  expect(sealed.status, JSON.stringify(sealed.body)).toBe(201);
  caller = await m2mTokens(l, [DPOP_AUD, MTLS_AUD, SEALED_AUD], ['read:orders']);
  key = await proofKey('ES256');
  const issued = await caller.token(DPOP_AUD, { dpop: await proof(key, { now: l.s.clock.now(), htu: `${l.publicUrl}/oauth/token` }) });
  expect(issued.token_type).toBe('DPoP');
  dpopToken = issued.access_token;
  rs = await startExpress((app) => {
    mount(app, 'ejb', l.origin);
    mount(app, 'tv', l.origin);
    app.get('/tv/dpop-nonce', tv.auth({ issuerBaseURL: l.origin, audience: DPOP_AUD, dpop: { nonce: tv.createNonceSource() } }), echo);
    app.get('/tv/dpop-store', tv.auth({ issuerBaseURL: l.origin, audience: DPOP_AUD, dpop: { replay: { claim: (k) => { const fresh = !replays.includes(k); replays.push(k); return fresh; } } } }), echo);
    app.get('/tv/sealed', tv.auth({ issuerBaseURL: l.origin, audience: SEALED_AUD, decryptionKeys: [sealKey.privatePem] }), echo);
    app.get('/tv/dpop-off', tv.auth({ issuerBaseURL: l.origin, audience: DPOP_AUD, dpop: { enabled: false } }), echo);
    app.get('/ejb/dpop-off', ejb.auth({ issuerBaseURL: l.origin, audience: DPOP_AUD, dpop: { enabled: false } }), echo);
  });
}, 60_000);
afterAll(async () => { await rs?.close(); await l?.close(); });

interface ProofOpts { htm?: string; htu?: string; iat?: number; jti?: string; ath?: string; key?: ProofKey; nonce?: string }
const dpopCall = async (path: string, token: string, o: ProofOpts = {}): Promise<Answer> => call(`${rs.url}${path}`, {
  headers: {
    authorization: `DPoP ${token}`,
    dpop: await proof(o.key ?? key, { now: Date.now(), htm: o.htm ?? 'GET', htu: o.htu ?? `${rs.url}${path}`, iat: o.iat, jti: o.jti, ath: o.ath ?? ath(token), nonce: o.nonce }),
  },
});
/** One fresh proof per library (each for its own URL); both answers must be equal. */
async function both(path: string, token: string, o: ProofOpts = {}): Promise<Answer> {
  const [a, b] = await Promise.all([dpopCall(`/ejb${path}`, token, o), dpopCall(`/tv${path}`, token, o)]);
  expect(b).toEqual(a);
  return b;
}
const dpopChallenge = (error: string, description: string) => `Bearer realm="api", DPoP error="${error}", error_description="${description}", algs="${ALGS}"`;

describe('DPoP-bound tokens', () => {
  it('accepted with Authorization: DPoP and a proof for this method, URL, token and key', async () => {
    const r = await both('/dpop', dpopToken);
    expect(r.status).toBe(200);
    expect(r.body.auth.payload.cnf).toEqual({ jkt: expect.any(String) });
  });

  it('refused as a Bearer token (401 invalid_token)', async () => {
    const [a, b] = await Promise.all([call(`${rs.url}/ejb/dpop`, bearer(dpopToken)), call(`${rs.url}/tv/dpop`, bearer(dpopToken))]);
    expect(b).toEqual(a);
    expect(b).toMatchObject({ status: 401, body: { error: 'invalid_token', message: 'DPoP-bound token requires the DPoP authentication scheme, not Bearer.' } });
    expect(b.challenge).toBe(`Bearer realm="api", error="invalid_token", error_description="DPoP-bound token requires the DPoP authentication scheme, not Bearer.", DPoP algs="${ALGS}"`);
  });

  it('proofs for another method, another URL, another token, with a stale iat, or by another key', async () => {
    const htm = await both('/dpop', dpopToken, { htm: 'POST' });
    expect(htm).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof', message: 'DPoP Proof htm mismatch' } });
    expect(htm.challenge).toBe(dpopChallenge('invalid_dpop_proof', 'DPoP Proof htm mismatch'));
    expect((await both('/dpop', dpopToken, { htu: `${rs.url}/elsewhere` })).body.message).toBe('DPoP Proof htu mismatch');
    expect((await both('/dpop', dpopToken, { ath: ath('another token') })).body.message).toBe('DPoP Proof "ath" mismatch');
    expect((await both('/dpop', dpopToken, { iat: Math.floor(Date.now() / 1000) - 600 })).body.message).toBe('DPoP proof "iat" is outside the acceptable range');
    const thief = await both('/dpop', dpopToken, { key: await proofKey('ES256') });
    expect(thief).toMatchObject({ status: 401, body: { error: 'invalid_token', message: 'JWT Access Token confirmation mismatch' } });
    expect(thief.challenge).toBe(dpopChallenge('invalid_token', 'JWT Access Token confirmation mismatch'));
  });

  it('Authorization: DPoP without a proof, and dpop.required with a Bearer token', async () => {
    const [a, b] = await Promise.all(['ejb', 'tv'].map((n) => call(`${rs.url}/${n}/dpop`, { headers: { authorization: `DPoP ${dpopToken}` } })));
    expect(b).toEqual(a);
    expect(b).toMatchObject({ status: 400, challenge: `Bearer realm="api", DPoP algs="${ALGS}"` });
    const plain = (await caller.token(MTLS_AUD, { [PROXY]: encodeURIComponent(alice.pem) })).access_token;
    const [c, d] = await Promise.all(['ejb', 'tv'].map((n) => call(`${rs.url}/${n}/plain-required`, bearer(plain))));
    expect(d).toEqual(c);
    expect(d).toMatchObject({ status: 400, challenge: `DPoP algs="${ALGS}"` });
  });

  it('a replayed proof: express-oauth2-jwt-bearer accepts it again; @tessera/verify refuses the second use', async () => {
    const p = await proof(key, { now: Date.now(), htm: 'GET', htu: `${rs.url}/ejb/dpop`, ath: ath(dpopToken) });
    const send = (path: string, pr: string) => call(`${rs.url}${path}`, { headers: { authorization: `DPoP ${dpopToken}`, dpop: pr } });
    expect((await send('/ejb/dpop', p)).status).toBe(200);
    expect((await send('/ejb/dpop', p)).status).toBe(200);
    const q = await proof(key, { now: Date.now(), htm: 'GET', htu: `${rs.url}/tv/dpop`, ath: ath(dpopToken) });
    expect((await send('/tv/dpop', q)).status).toBe(200);
    const again = await send('/tv/dpop', q);
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof', message: 'DPoP proof "jti" has already been used' } });
    expect(again.challenge).toBe(dpopChallenge('invalid_dpop_proof', "DPoP proof 'jti' has already been used"));
  });

  it('an expired proof (exp in the past) is refused by @tessera/verify', async () => {
    const now = Math.floor(Date.now() / 1000);
    const p = await new SignJWT({ htm: 'GET', htu: `${rs.url}/tv/dpop`, jti: `exp-${now}`, ath: ath(dpopToken), iat: now - 60, exp: now - 30 })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk } as never).sign(key.privateKey);
    const r = await call(`${rs.url}/tv/dpop`, { headers: { authorization: `DPoP ${dpopToken}`, dpop: p } });
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof', message: '"exp" claim timestamp check failed' } });
  });

  it('an encrypted DPoP-bound token: decrypted, then its proof checked against the JWE as sent (ath)', async () => {
    const issued = await caller.token(SEALED_AUD, { dpop: await proof(key, { now: l.s.clock.now(), htu: `${l.publicUrl}/oauth/token` }) });
    expect(issued.token_type).toBe('DPoP');
    expect(issued.access_token.split('.')).toHaveLength(5);
    const ok = await dpopCall('/tv/sealed', issued.access_token);
    expect(ok.status).toBe(200);
    expect(ok.body.auth.payload.cnf).toEqual({ jkt: expect.any(String) });
    expect((await call(`${rs.url}/tv/sealed`, bearer(issued.access_token))).body.message).toBe('DPoP-bound token requires the DPoP authentication scheme, not Bearer.');
    expect((await dpopCall('/tv/sealed', issued.access_token, { key: await proofKey('ES256') })).body.message).toBe('JWT Access Token confirmation mismatch');
  });

  it('a pluggable replay store sees each (key, jti) once and decides', async () => {
    const jti = `jti-${Date.now()}`;
    expect((await dpopCall('/tv/dpop-store', dpopToken, { jti })).status).toBe(200);
    expect((await dpopCall('/tv/dpop-store', dpopToken, { jti })).body.message).toBe('DPoP proof "jti" has already been used');
    expect(replays.filter((k) => k.endsWith(`\0${jti}`))).toHaveLength(2);
  });

  it('server nonces: 401 use_dpop_nonce with DPoP-Nonce, then accepted with the nonce (and a wrong nonce refused)', async () => {
    const first = await dpopCall('/tv/dpop-nonce', dpopToken);
    expect(first).toMatchObject({ status: 401, body: { error: 'use_dpop_nonce' }, nonce: expect.any(String) });
    expect(first.challenge).toBe(dpopChallenge('use_dpop_nonce', 'Resource server requires nonce in DPoP proof'));
    expect((await dpopCall('/tv/dpop-nonce', dpopToken, { nonce: 'made-up' })).status).toBe(401);
    const ok = await dpopCall('/tv/dpop-nonce', dpopToken, { nonce: first.nonce as string });
    expect(ok).toMatchObject({ status: 200, nonce: first.nonce });
  });

  it('dpop.enabled: false: express-oauth2-jwt-bearer takes the bound token as Bearer; @tessera/verify refuses it', async () => {
    expect((await call(`${rs.url}/ejb/dpop-off`, bearer(dpopToken))).status).toBe(200);
    expect(await call(`${rs.url}/tv/dpop-off`, bearer(dpopToken))).toMatchObject({ status: 401, body: { error: 'invalid_token', message: 'DPoP-bound token requires DPoP support, which is disabled' } });
  });
});

let certs: TestCerts;
let alice: ClientCert;
let mallory: ClientCert;
beforeAll(() => {
  certs = makeCerts();
  alice = clientCert(certs.dir, 'alice');
  mallory = clientCert(certs.dir, 'mallory');
});

describe('certificate-bound (mTLS) tokens', () => {
  let tls: HttpsServer;
  let port: number;
  let proxied: { url: string; close(): Promise<void> };
  let token: string;

  beforeAll(async () => {
    token = (await caller.token(MTLS_AUD, { [PROXY]: encodeURIComponent(alice.pem) })).access_token;
    const app = express();
    app.get('/ejb', ejb.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD, mtls: { enabled: true }, getCertificate: (req) => (req.socket as import('node:tls').TLSSocket).getPeerCertificate()?.raw }), echo);
    app.get('/ejb-default', ejb.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD }), echo);
    app.get('/tv', tv.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD }), echo);
    app.get('/tv-off', tv.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD, mtls: { enabled: false } }), echo);
    app.use(renderError);
    tls = createHttpsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile), requestCert: true, rejectUnauthorized: false }, app);
    await new Promise<void>((ok) => tls.listen(0, '127.0.0.1', ok));
    port = (tls.address() as AddressInfo).port;
    proxied = await startExpress((a) => {
      a.get('/trusted', tv.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD, mtls: { proxyHeader: PROXY, trustedProxies: ['127.0.0.1'] } }), echo);
      a.get('/untrusted', tv.auth({ issuerBaseURL: l.origin, audience: MTLS_AUD, mtls: { proxyHeader: PROXY, trustedProxies: ['10.1.2.3'] } }), echo);
    });
  });
  afterAll(async () => { tls?.closeAllConnections(); await new Promise((ok) => tls?.close(ok)); await proxied?.close(); });

  const get = (path: string, cert?: ClientCert) => overTls(port, certs.ca, 'GET', path, { cert, headers: { authorization: `Bearer ${token}` } });

  it('the certificate the token is bound to: 200 from both', async () => {
    for (const path of ['/ejb', '/tv']) {
      const r = await get(path, alice);
      expect(r.status, path).toBe(200);
      expect(r.body.auth.payload.cnf).toEqual({ 'x5t#S256': alice.x5t });
    }
  });

  it('another certificate: 401 confirmation mismatch; no certificate: 400 — from both', async () => {
    for (const path of ['/ejb', '/tv']) {
      expect((await get(path, mallory)).body, path).toEqual({ error: 'invalid_token', message: 'JWT Access Token confirmation mismatch' });
      const none = await get(path);
      expect(none.status).toBe(400);
      expect(none.body.message).toBe('A client certificate is required for this certificate-bound access token');
    }
  });

  it('with no mtls option express-oauth2-jwt-bearer takes the bound token without a certificate; @tessera/verify checks it, and refuses it when mtls is turned off', async () => {
    expect((await get('/ejb-default')).status).toBe(200);
    expect((await get('/tv')).status).toBe(400);
    expect((await get('/tv-off', alice)).body).toEqual({ error: 'invalid_token', message: 'Certificate-bound token requires mTLS, which is disabled' });
  });

  it('a certificate forwarded by a trusted proxy is used; from an untrusted peer the header is ignored', async () => {
    const h = (c: ClientCert) => ({ headers: { authorization: `Bearer ${token}`, [PROXY]: encodeURIComponent(c.pem) } });
    expect((await call(`${proxied.url}/trusted`, h(alice))).status).toBe(200);
    expect((await call(`${proxied.url}/trusted`, h(mallory))).status).toBe(401);
    expect((await call(`${proxied.url}/untrusted`, h(alice))).status).toBe(400);
  });
});
