import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tessera/server';
import { uniq } from '../helpers/management';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m } from './dpop';
import { clientCert, type ClientCert } from './mtls';

/**
 * Behind a TLS-terminating proxy: the client certificate arrives in TESSERA_MTLS_PROXY_HEADER and is believed only
 * from TESSERA_MTLS_TRUSTED_PROXIES; from any other address the header is ignored.
 */
const HEADER = 'x-client-cert';
let alice: ClientCert;
beforeAll(() => { alice = clientCert(mkdtempSync(join(tmpdir(), 'tessera-mtls-proxy-')), 'alice'); });

eachDialect('mTLS behind a trusted proxy', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: {
      TESSERA_MTLS_PROXY_HEADER: 'X-Client-Cert', TESSERA_MTLS_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7', TESSERA_MTLS_PUBLIC_URL: 'https://mtls.tessera.test/',
    } });
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const token = async (form: Record<string, string>, remoteAddress: string, cert?: string) => {
    const res = await s.t.app.inject({
      method: 'POST', url: '/oauth/token', remoteAddress, payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cert === undefined ? {} : { [HEADER]: cert }) },
    });
    return { status: res.statusCode, body: res.json() };
  };
  const cc = async (remoteAddress: string, cert?: string) => {
    const api = await dpopApi(s, { mechanism: 'mtls', required: true });
    return { api, r: await token({ grant_type: 'client_credentials', audience: api, ...await m2m(s, api) }, remoteAddress, cert) };
  };

  it('binds the token to a URL-encoded PEM certificate forwarded by a trusted proxy', async () => {
    const { r } = await cc('10.1.2.3', encodeURIComponent(alice.pem));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(claimsOf(r.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  it('accepts a base64 DER certificate from a single trusted address', async () => {
    const der = alice.pem.replace(/-----[A-Z ]+-----|\s/g, '');
    const { r } = await cc('192.0.2.7', der);
    expect(claimsOf(r.body.access_token).cnf).toEqual({ 'x5t#S256': alice.x5t });
  });

  it('ignores the header from an address that is not a trusted proxy', async () => {
    const { api, r } = await cc('192.0.2.8', encodeURIComponent(alice.pem));
    expect([r.status, r.body]).toEqual([400, { error: 'invalid_request', error_description: `Client certificate required: the API "${api}" requires mTLS-bound tokens` }]);
  });

  it('refuses a malformed certificate header from a trusted proxy with 400', async () => {
    const { r } = await cc('10.0.0.1', 'not-a-certificate');
    expect([r.status, r.body]).toEqual([400, { error: 'invalid_request', error_description: 'Malformed client certificate header' }]);
  });

  it('authenticates a self_signed_tls_client_auth client by the forwarded certificate', async () => {
    const api = await dpopApi(s);
    const c = await s.api('POST', '/clients', {
      name: `proxy-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { self_signed_tls_client_auth: { credentials: [{ credential_type: 'x509_cert', pem: alice.pem }] } },
    });
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
    const form = { grant_type: 'client_credentials', audience: api, client_id: c.body.client_id };
    expect((await token(form, '10.9.9.9', encodeURIComponent(alice.pem))).status).toBe(200);
    expect((await token(form, '203.0.113.1', encodeURIComponent(alice.pem))).status).toBe(401);
  });

  it('advertises certificate-bound tokens and the mTLS endpoint aliases in discovery', async () => {
    const r = await s.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(r.json().tls_client_certificate_bound_access_tokens).toBe(true);
    expect(r.json().mtls_endpoint_aliases).toEqual({
      token_endpoint: 'https://mtls.tessera.test/oauth/token', userinfo_endpoint: 'https://mtls.tessera.test/userinfo',
      revocation_endpoint: 'https://mtls.tessera.test/oauth/revoke',
    });
  });
});

describe('TESSERA_MTLS_PROXY_HEADER configuration', () => {
  const base = { TESSERA_DATABASE_URL: 'sqlite::memory:' };
  it('needs TESSERA_MTLS_TRUSTED_PROXIES', () => {
    expect(() => loadConfig({ ...base, TESSERA_MTLS_PROXY_HEADER: 'x-client-cert' })).toThrow(ConfigError);
  });
  it('refuses TESSERA_MTLS_PUBLIC_URL when no client certificate can reach Tessera, or when it is not https', () => {
    expect(() => loadConfig({ ...base, TESSERA_MTLS_PUBLIC_URL: 'https://mtls.example.com' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, TESSERA_MTLS_PROXY_HEADER: 'x-client-cert', TESSERA_MTLS_TRUSTED_PROXIES: '10.0.0.1', TESSERA_MTLS_PUBLIC_URL: 'http://mtls.example.com' }))
      .toThrow('TESSERA_MTLS_PUBLIC_URL: expected an absolute https URL without query or fragment, got "http://mtls.example.com"');
  });
  it('refuses a trusted proxy that is not an address or CIDR range', () => {
    expect(() => loadConfig({ ...base, TESSERA_MTLS_PROXY_HEADER: 'x-client-cert', TESSERA_MTLS_TRUSTED_PROXIES: 'proxy.internal' }))
      .toThrow('TESSERA_MTLS_TRUSTED_PROXIES: expected addresses or CIDR ranges, got "proxy.internal"');
  });
});
