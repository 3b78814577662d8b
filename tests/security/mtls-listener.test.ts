import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tessera/server';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { freePort } from '../helpers/listening';
import { uniq } from '../helpers/management';
import { PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi } from './dpop';
import { caSignedCert, clientCert, overTls, type ClientCert } from './mtls';

/**
 * TESSERA_MTLS_PORT: a second HTTPS port serving the same app whose handshake asks for client certificates (Auth0's
 * mtls.{domain}); the main port then no longer asks, so browsers never see a certificate prompt there. Discovery's
 * mtls_endpoint_aliases point at the mTLS port. Listener behaviour does not depend on the store: SQLite only.
 */
let certs: TestCerts;
let alice: ClientCert;
let carol: ClientCert;
beforeAll(() => {
  certs = makeCerts();
  alice = clientCert(certs.dir, 'listener-alice');
  carol = caSignedCert(certs.dir, 'listener-carol');
});

describe('TESSERA_MTLS_PORT configuration', () => {
  const base = () => ({ TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_PORT: '8443', TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile });
  const error = (env: Record<string, string>) => { try { loadConfig(env); } catch (e) { return e; } return undefined; };

  it('defaults the mTLS aliases to the public host on the mTLS port; TESSERA_MTLS_PUBLIC_URL wins when set', () => {
    expect(loadConfig({ ...base(), TESSERA_PUBLIC_URL: 'https://auth.example.com', TESSERA_MTLS_PORT: '9443' })).toMatchObject({ mtlsPort: 9443, mtlsPublicUrl: 'https://auth.example.com:9443' });
    expect(loadConfig({ ...base(), TESSERA_MTLS_PORT: '9443', TESSERA_MTLS_PUBLIC_URL: 'https://mtls.example.com' }).mtlsPublicUrl).toBe('https://mtls.example.com');
    expect(loadConfig(base()).mtlsPort).toBeUndefined();
  });

  it('refuses it without TLS, out of range, or equal to TESSERA_PORT, naming the variable', () => {
    for (const env of [
      { TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_MTLS_PORT: '9443' },
      { ...base(), TESSERA_MTLS_PORT: '0' }, { ...base(), TESSERA_MTLS_PORT: '70000' }, { ...base(), TESSERA_MTLS_PORT: 'x' },
      { ...base(), TESSERA_MTLS_PORT: '8443' },
    ]) {
      const e = error(env);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe('TESSERA_MTLS_PORT');
    }
  });
});

describe('the separate mTLS listener [sqlite]', () => {
  let s: TestServer;
  let port: number;
  let mtlsPort: number;
  let api: string;
  let selfSigned: string;
  let byDn: string;
  beforeAll(async () => {
    mtlsPort = await freePort();
    s = await startTessera('sqlite', { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_CA: certs.caFile, TESSERA_MTLS_PORT: String(mtlsPort) } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
    expect(await s.t.listenMtls()).toBe(mtlsPort);
    api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const client = async (methods: Record<string, unknown>) => {
      const c = await s.api('POST', '/clients', { name: `listener-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], client_authentication_methods: methods });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
      return c.body.client_id as string;
    };
    selfSigned = await client({ self_signed_tls_client_auth: { credentials: [{ credential_type: 'x509_cert', pem: alice.pem }] } });
    byDn = await client({ tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', pem: carol.pem }] } });
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const token = (on: number, clientId: string, cert: ClientCert) =>
    overTls(on, certs.ca, 'POST', '/oauth/token', { cert, form: { grant_type: 'client_credentials', audience: api, client_id: clientId } });
  /** Whether the server's handshake sent a CertificateRequest, as openssl s_client reports it. */
  const asksForCertificate = async (on: number): Promise<boolean> => {
    // asynchronous: the server answers from this same process
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${on}`, '-tls1_2', '-CAfile', certs.caFile], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    expect(out).toContain('Verify return code: 0 (ok)');
    return /Client Certificate Types/.test(out);
  };

  it('authenticates self_signed_tls_client_auth and tls_client_auth on the mTLS port, binding the token', async () => {
    const r = await token(mtlsPort, selfSigned, alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({ azp: selfSigned, cnf: { 'x5t#S256': alice.x5t } });
    const d = await token(mtlsPort, byDn, carol);
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    expect(claimsOf(d.body.access_token).cnf).toEqual({ 'x5t#S256': carol.x5t });
  });

  it('the main port no longer asks for a certificate, so certificate authentication fails there', async () => {
    expect(await asksForCertificate(port)).toBe(false);
    expect(await asksForCertificate(mtlsPort)).toBe(true);
    expect((await token(port, selfSigned, alice)).body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
    expect((await token(port, byDn, carol)).status).toBe(401);
  });

  it('serves the same app: discovery on both ports, mtls_endpoint_aliases at the public host on the mTLS port', async () => {
    const main = await overTls(port, certs.ca, 'GET', '/.well-known/openid-configuration');
    const mtls = await overTls(mtlsPort, certs.ca, 'GET', '/.well-known/openid-configuration');
    expect(mtls.body).toEqual(main.body);
    const alias = `https://${new URL(PUBLIC_URL).hostname}:${mtlsPort}`;
    expect(main.body.mtls_endpoint_aliases).toEqual({ token_endpoint: `${alias}/oauth/token`, userinfo_endpoint: `${alias}/userinfo`, revocation_endpoint: `${alias}/oauth/revoke` });
    expect(main.body.tls_client_certificate_bound_access_tokens).toBe(true);
    expect((await overTls(mtlsPort, certs.ca, 'GET', '/api/v2/clients')).status).toBe(401);
    expect(main.headers['strict-transport-security']).toBe(mtls.headers['strict-transport-security']);
  });

  it('a second server on the same mTLS port is refused at start (address in use)', async () => {
    const other = await startTessera('sqlite', { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_PORT: String(mtlsPort) } });
    try {
      await expect(other.t.listenMtls()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally { await other.close(); }
  });
});
