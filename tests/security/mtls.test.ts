import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m } from './dpop';
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
