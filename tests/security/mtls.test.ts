import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m, passwordParams, publicClient } from './dpop';
import { clientCert, overTls, type ClientCert } from './mtls';

/**
 * RFC 8705 certificate-bound access tokens through a real HTTPS listener on loopback: the listener asks for a
 * client certificate, a token for an API with `proof_of_possession.mechanism: "mtls"` is bound to it with
 * `cnf["x5t#S256"]` and stays `token_type: Bearer`; a required binding without a certificate is refused.
 */
let certs: TestCerts;
let alice: ClientCert;
beforeAll(() => { certs = makeCerts(); alice = clientCert(certs.dir, 'alice'); });

eachDialect('mTLS-bound access tokens', (dialect) => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const cc = async (audience: string, c: { client_id: string; client_secret: string }, cert?: ClientCert) =>
    overTls(port, certs.ca, 'POST', '/oauth/token', { cert, form: { grant_type: 'client_credentials', audience, ...c } });

  it('binds a token to the client certificate: cnf["x5t#S256"] is the certificate thumbprint, token_type stays Bearer', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: true });
    const r = await cc(api, await m2m(s, api), alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
    expect(claimsOf(r.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  it('refuses a token for an API that requires mTLS when no certificate was sent', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: true });
    const r = await cc(api, await m2m(s, api));
    expect([r.status, r.body]).toEqual([400, {
      error: 'invalid_request', error_description: `Client certificate required: the API "${api}" requires mTLS-bound tokens`,
    }]);
  });

  it('issues an unbound Bearer token without a certificate when the API allows but does not require mTLS', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const r = await cc(api, await m2m(s, api));
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
    expect(claimsOf(r.body.access_token).cnf).toBeUndefined();
  });

  it('binds to the certificate when the API allows mTLS and one was sent', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const r = await cc(api, await m2m(s, api), alice);
    expect(claimsOf(r.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  it('does not bind to a certificate for an API without a proof-of-possession policy', async () => {
    const api = await dpopApi(s);
    const r = await cc(api, await m2m(s, api), alice);
    expect(r.status).toBe(200);
    expect(claimsOf(r.body.access_token).cnf).toBeUndefined();
  });

  it('refuses a client with require_proof_of_possession without a certificate, and binds it with one', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const client = await m2m(s, api, { require_proof_of_possession: true });
    const refused = await cc(api, client);
    expect([refused.status, refused.body]).toEqual([400, {
      error: 'invalid_request', error_description: 'Client certificate required: the client requires proof of possession (require_proof_of_possession)',
    }]);
    const bound = await cc(api, client, alice);
    expect(bound.status).toBe(200);
    expect(claimsOf(bound.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  // Contract §7.9's matrix with a certificate as the proof (confidential clients): client requires × cert × API policy
  const POLICIES: Record<string, Record<string, unknown> | undefined> = {
    none: undefined, allowed: { mechanism: 'mtls', required: false }, required: { mechanism: 'mtls', required: true },
    required_for_public: { mechanism: 'mtls', required: true, required_for: 'public_clients' },
  };
  const MATRIX: Array<[boolean, boolean, string, 'bearer' | 'bound' | 'client_requires' | 'api_requires' | 'api_has_no_policy']> = [
    [false, false, 'none', 'bearer'], [false, false, 'allowed', 'bearer'], [false, false, 'required', 'api_requires'], [false, false, 'required_for_public', 'bearer'],
    [false, true, 'none', 'bearer'], [false, true, 'allowed', 'bound'], [false, true, 'required', 'bound'], [false, true, 'required_for_public', 'bound'],
    [true, false, 'none', 'api_has_no_policy'], [true, false, 'allowed', 'client_requires'], [true, false, 'required', 'client_requires'], [true, false, 'required_for_public', 'client_requires'],
    [true, true, 'none', 'api_has_no_policy'], [true, true, 'allowed', 'bound'], [true, true, 'required', 'bound'], [true, true, 'required_for_public', 'bound'],
  ];
  it.each(MATRIX)('matrix: client requires %s, certificate %s, API policy %s → %s', async (requires, withCert, policy, outcome) => {
    const api = await dpopApi(s, POLICIES[policy]);
    const r = await cc(api, await m2m(s, api, requires ? { require_proof_of_possession: true } : {}), withCert ? alice : undefined);
    const refusal = {
      client_requires: 'Client certificate required: the client requires proof of possession (require_proof_of_possession)',
      // a certificate cannot satisfy the client's requirement at an API without a proof_of_possession policy
      api_has_no_policy: `The client requires proof of possession but the API "${api}" has no proof_of_possession policy (it accepts neither DPoP- nor certificate-bound tokens)`,
      api_requires: `Client certificate required: the API "${api}" requires mTLS-bound tokens`,
    }[outcome as string];
    if (refusal) {
      expect([r.status, r.body]).toEqual([400, { error: 'invalid_request', error_description: refusal }]);
      return;
    }
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
    expect(claimsOf(r.body.access_token).cnf).toEqual(outcome === 'bound' ? { 'x5t#S256': alice.x5t } : undefined);
  });

  it('/userinfo accepts a certificate-bound token only over a connection with the same certificate', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: true });
    const c = await publicClient(s);
    const t = await overTls(port, certs.ca, 'POST', '/oauth/token', { cert: alice, form: passwordParams(c, api, 'openid email read:data') });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    expect(claimsOf(t.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
    const userinfo = (cert?: ClientCert) => overTls(port, certs.ca, 'GET', '/userinfo', { cert, headers: { authorization: `Bearer ${t.body.access_token}` } });
    const ok = await userinfo(alice);
    expect([ok.status, ok.body.email]).toEqual([200, c.email]);
    for (const r of [await userinfo(), await userinfo(clientCert(certs.dir, 'eve'))]) {
      expect([r.status, r.body, r.headers['www-authenticate']]).toEqual([401, 'Unauthorized', 'Bearer error="invalid_token"']);
    }
  });

  it('binds a public client\'s refresh token to its certificate: refreshing needs the same certificate (RFC 8705 §4)', async () => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const c = await publicClient(s);
    const t = await overTls(port, certs.ca, 'POST', '/oauth/token', { cert: alice, form: passwordParams(c, api) });
    expect(typeof t.body.refresh_token, JSON.stringify(t.body)).toBe('string');
    const refresh = (cert?: ClientCert) => overTls(port, certs.ca, 'POST', '/oauth/token', {
      cert, form: { grant_type: 'refresh_token', client_id: c.client_id, refresh_token: t.body.refresh_token },
    });
    const none = await refresh();
    expect([none.status, none.body]).toEqual([400, { error: 'invalid_request', error_description: 'Client certificate required: the refresh token is bound to a client certificate' }]);
    const other = await refresh(clientCert(certs.dir, 'eve2'));
    expect([other.status, other.body.error]).toEqual([403, 'invalid_grant']);
    const ok = await refresh(alice);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(claimsOf(ok.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  it('leaves a public client\'s refresh token unbound when the access token was not bound to a certificate', async () => {
    const api = await dpopApi(s);
    const c = await publicClient(s);
    const t = await overTls(port, certs.ca, 'POST', '/oauth/token', { cert: alice, form: passwordParams(c, api) });
    const r = await overTls(port, certs.ca, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', client_id: c.client_id, refresh_token: t.body.refresh_token } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('advertises tls_client_certificate_bound_access_tokens when serving TLS', async () => {
    const r = await overTls(port, certs.ca, 'GET', '/.well-known/openid-configuration');
    expect(r.body.tls_client_certificate_bound_access_tokens).toBe(true);
  });
});

describe('mTLS without TLS', () => {
  it('does not advertise certificate-bound tokens when Tessera does not serve TLS (a proxy would hide the certificate)', async () => {
    const s = await startTessera('sqlite');
    try {
      const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).not.toHaveProperty('tls_client_certificate_bound_access_tokens');
    } finally { await s.close(); }
  });
});
