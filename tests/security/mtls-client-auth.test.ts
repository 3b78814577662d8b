import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { managementToken, uniq } from '../helpers/management';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi } from './dpop';
import { caSignedCert, clientCert, overTls, type ClientCert } from './mtls';

/**
 * RFC 8705 §2.2 self_signed_tls_client_auth through a real HTTPS listener: a client registers its certificate in
 * Auth0's `client_authentication_methods.self_signed_tls_client_auth.credentials` shape and authenticates at
 * /oauth/token by presenting it in the TLS handshake; another certificate, none, or its secret are refused.
 */
let certs: TestCerts;
let alice: ClientCert;
let mallory: ClientCert;
let carol: ClientCert;
let forgedCarol: ClientCert;
beforeAll(() => {
  certs = makeCerts();
  alice = clientCert(certs.dir, 'alice');
  mallory = clientCert(certs.dir, 'mallory');
  carol = caSignedCert(certs.dir, 'carol');
  forgedCarol = clientCert(certs.dir, 'carol'); // same subject DN, not issued by the trusted CA
});

const DENIED = { error: 'access_denied', error_description: 'Unauthorized' };
const certMethods = (pem: string) => ({ self_signed_tls_client_auth: { credentials: [{ credential_type: 'x509_cert', name: 'alice', pem }] } });

eachDialect('self_signed_tls_client_auth', (dialect) => {
  let s: TestServer;
  let port: number;
  let api: string;
  let client: { client_id: string; client_secret: string };
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_CA: certs.caFile } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
    api = await dpopApi(s, { mechanism: 'mtls', required: false });
    const c = await s.api('POST', '/clients', {
      name: `mtls-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], client_authentication_methods: certMethods(alice.pem),
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    client = { client_id: c.body.client_id, client_secret: c.body.client_secret };
    expect((await s.api('POST', '/client-grants', { client_id: client.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const token = (form: Record<string, string>, cert?: ClientCert) =>
    overTls(port, certs.ca, 'POST', '/oauth/token', { cert, form: { grant_type: 'client_credentials', audience: api, ...form } });

  it('registers the certificate in Auth0\'s shape: one credential id under self_signed_tls_client_auth, no token_endpoint_auth_method', async () => {
    const r = await s.api('GET', `/clients/${client.client_id}`);
    expect(r.body.client_authentication_methods).toEqual({ self_signed_tls_client_auth: { credentials: [{ id: expect.any(String) }] } });
    expect(r.body).not.toHaveProperty('token_endpoint_auth_method');
  });

  it('authenticates the client by its registered certificate, and the token is bound to it', async () => {
    const r = await token({ client_id: client.client_id }, alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({ azp: client.client_id, cnf: { 'x5t#S256': alice.x5t } });
  });

  it('refuses another certificate', async () => {
    const r = await token({ client_id: client.client_id }, mallory);
    expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('refuses the request without a certificate', async () => {
    const r = await token({ client_id: client.client_id });
    expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('refuses the client secret as a fallback, even with the registered certificate', async () => {
    const r = await token(client, alice);
    expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('refuses a PEM that is not a certificate', async () => {
    const r = await s.api('POST', '/clients', { name: `bad-${uniq()}`, client_authentication_methods: certMethods('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----') });
    expect([r.status, r.body.message]).toEqual([400,
      "Payload validation error: 'Invalid PEM: expected an X509 certificate' on property client_authentication_methods.self_signed_tls_client_auth.credentials[0].pem."]);
  });

  it('needs create:client_credentials to register a certificate; nothing is created without it', async () => {
    const name = `mtls-scope-${uniq()}`;
    const r = await s.api('POST', '/clients', { name, client_authentication_methods: certMethods(mallory.pem) }, { token: await managementToken(s, ['create:clients']) });
    expect(r.status).toBe(403);
    const all = (await s.api('GET', '/clients')).body as Array<{ name: string }>;
    expect(all.some((c) => c.name === name)).toBe(false);
  });

  it('needs create:client_credentials to add a certificate to an existing client', async () => {
    const r = await s.api('PATCH', `/clients/${client.client_id}`, { client_authentication_methods: certMethods(mallory.pem) },
      { token: await managementToken(s, ['update:clients', 'update:client_credentials']) });
    expect(r.status).toBe(403);
    expect((await token({ client_id: client.client_id }, mallory)).status).toBe(401);
  });

  it('advertises both certificate methods in discovery when serving TLS with trusted CAs', async () => {
    const r = await overTls(port, certs.ca, 'GET', '/.well-known/openid-configuration');
    expect(r.body.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']);
  });

  const dnClient = async (credential: Record<string, string>) => {
    const c = await s.api('POST', '/clients', {
      name: `dn-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', ...credential }] } },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
    return c.body.client_id as string;
  };

  it('tls_client_auth: a certificate from the trusted CA with the registered subject DN authenticates the client', async () => {
    const id = await dnClient({ subject_dn: 'O=Tessera Tests, CN=carol' });
    const r = await token({ client_id: id }, carol);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({ azp: id, cnf: { 'x5t#S256': carol.x5t } });
  });

  it('tls_client_auth: a self-signed certificate with the same subject DN is refused', async () => {
    const id = await dnClient({ subject_dn: 'CN=carol,O=Tessera Tests' });
    const r = await token({ client_id: id }, forgedCarol);
    expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('tls_client_auth: a trusted certificate with another subject DN is refused', async () => {
    const id = await dnClient({ subject_dn: 'CN=dave,O=Tessera Tests' });
    const r = await token({ client_id: id }, carol);
    expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('tls_client_auth: a one-line subject DN with an escaped comma matches the certificate', async () => {
    const frank = caSignedCert(certs.dir, 'frank', 'Acme, Inc');
    const id = await dnClient({ subject_dn: 'CN=frank,O=Acme\\, Inc' });
    expect((await token({ client_id: id }, frank)).status).toBe(200);
    expect((await token({ client_id: await dnClient({ subject_dn: 'CN=frank,O=Acme' }) }, frank)).status).toBe(401);
  });

  it('tls_client_auth: the subject DN can be registered from the certificate PEM', async () => {
    const id = await dnClient({ pem: carol.pem });
    expect((await token({ client_id: id }, carol)).status).toBe(200);
  });

  it('tls_client_auth: pem and subject_dn together are refused', async () => {
    const r = await s.api('POST', '/clients', { name: `dn-${uniq()}`, client_authentication_methods: { tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', pem: carol.pem, subject_dn: 'CN=carol' }] } } });
    expect([r.status, r.body.message]).toEqual([400, "Payload validation error: 'Exactly one of pem, subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email is required' on property client_authentication_methods.tls_client_auth.credentials[0]."]);
  });

  it('tls_client_auth: registering a subject DN needs create:client_credentials', async () => {
    const body = { name: `dn-${uniq()}`, client_authentication_methods: { tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', subject_dn: 'CN=carol' }] } } };
    expect((await s.api('POST', '/clients', body, { token: await managementToken(s, ['create:clients']) })).status).toBe(403);
  });
});

/**
 * The same methods through Auth0's credentials API (credentials created on their own, then enabled by id), and
 * tls_client_auth by subject alternative name (RFC 8705 §2.1.2) with its refusals.
 */
let svc: ClientCert;
let svcForged: ClientCert;
let multi: ClientCert;
beforeAll(() => {
  svc = caSignedCert(certs.dir, 'svc', 'Tessera Tests', ['DNS:svc.example.com', 'URI:spiffe://example.org/ns/prod/sa/svc', 'IP:10.1.2.3', 'IP:2001:db8::1', 'email:svc@Example.COM']);
  svcForged = clientCert(certs.dir, 'svc-forged', ['DNS:svc.example.com', 'URI:spiffe://example.org/ns/prod/sa/svc']);
  multi = caSignedCert(certs.dir, 'multi', 'Tessera Tests', ['DNS:other.example.com', 'DNS:b.example.com']);
});

eachDialect('mTLS credentials through the credentials API, tls_client_auth by SAN', (dialect) => {
  let s: TestServer;
  let port: number;
  let api: string;
  beforeAll(async () => {
    s = await startTessera(dialect, { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_CA: certs.caFile } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
    api = await dpopApi(s, { mechanism: 'mtls', required: false });
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const token = (clientId: string, cert?: ClientCert) =>
    overTls(port, certs.ca, 'POST', '/oauth/token', { cert, form: { grant_type: 'client_credentials', audience: api, client_id: clientId } });
  const m2m = async () => {
    const c = await s.api('POST', '/clients', { name: `cred-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
    return c.body.client_id as string;
  };
  const credential = async (clientId: string, body: Record<string, unknown>) => {
    const r = await s.api('POST', `/clients/${clientId}/credentials`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  };
  const enable = async (clientId: string, method: string, id: string) => {
    const r = await s.api('PATCH', `/clients/${clientId}`, { client_authentication_methods: { [method]: { credentials: [{ id }] } }, token_endpoint_auth_method: null });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  /** A client whose tls_client_auth credential (created through the API and enabled) names this one form. */
  const sanClient = async (form: Record<string, string>) => {
    const id = await m2m();
    await enable(id, 'tls_client_auth', await credential(id, { credential_type: 'cert_subject_dn', ...form }));
    return id;
  };

  it('self_signed_tls_client_auth: an x509_cert credential authenticates only once enabled, and binds the token', async () => {
    const id = await m2m();
    const cred = await credential(id, { credential_type: 'x509_cert', name: 'alice', pem: alice.pem });
    expect([(await token(id, alice)).status]).toEqual([401]);
    await enable(id, 'self_signed_tls_client_auth', cred);
    const r = await token(id, alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({ azp: id, cnf: { 'x5t#S256': alice.x5t } });
    expect((await token(id, mallory)).status).toBe(401);
  });

  it('an expired certificate credential is refused at authentication', async () => {
    const id = await m2m();
    const cred = await credential(id, { credential_type: 'x509_cert', pem: alice.pem });
    await enable(id, 'self_signed_tls_client_auth', cred);
    expect((await s.api('PATCH', `/clients/${id}/credentials/${cred}`, { expires_at: new Date(s.clock.now() - 1000).toISOString() })).status).toBe(200);
    expect([(await token(id, alice)).status, (await token(id, alice)).body]).toEqual([401, DENIED]);
  });

  it('tls_client_auth: a cert_subject_dn credential from the API authenticates a certificate of the trusted CA', async () => {
    const id = await sanClient({ subject_dn: 'CN=carol,O=Tessera Tests' });
    expect((await token(id, carol)).status).toBe(200);
    expect((await token(id, forgedCarol)).status).toBe(401);
  });

  for (const [name, form] of [
    ['dNSName (case-insensitive)', { tls_client_auth_san_dns: 'SVC.example.com' }],
    ['uniformResourceIdentifier', { tls_client_auth_san_uri: 'spiffe://example.org/ns/prod/sa/svc' }],
    ['iPAddress (IPv4)', { tls_client_auth_san_ip: '10.1.2.3' }],
    ['iPAddress (IPv6, another spelling)', { tls_client_auth_san_ip: '2001:DB8:0:0::1' }],
    ['rfc822Name (domain case-insensitive)', { tls_client_auth_san_email: 'svc@example.com' }],
  ] as const) {
    it(`tls_client_auth by SAN: ${name} matches the certificate`, async () => {
      const id = await sanClient(form);
      const r = await token(id, svc);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(claimsOf(r.body.access_token)).toMatchObject({ azp: id, cnf: { 'x5t#S256': svc.x5t } });
    });
  }

  it('tls_client_auth by SAN: another SAN of the same type is refused', async () => {
    const id = await sanClient({ tls_client_auth_san_dns: 'svc.example.com' });
    expect([(await token(id, multi)).status, (await token(id, multi)).body]).toEqual([401, DENIED]);
    const uri = await sanClient({ tls_client_auth_san_uri: 'spiffe://example.org/ns/prod/sa/other' });
    expect((await token(uri, svc)).status).toBe(401);
    const ip = await sanClient({ tls_client_auth_san_ip: '10.1.2.4' });
    expect((await token(ip, svc)).status).toBe(401);
  });

  it('tls_client_auth by SAN: the right value under the wrong SAN type is refused', async () => {
    const ipAsDns = await sanClient({ tls_client_auth_san_dns: '10.1.2.3' }); // the iPAddress SAN's value as a dNSName
    expect((await token(ipAsDns, svc)).status).toBe(401);
    const uriHostAsDns = await sanClient({ tls_client_auth_san_dns: 'example.org' }); // the URI's host is not a dNSName
    expect((await token(uriHostAsDns, svc)).status).toBe(401);
    const dnsAsUri = await sanClient({ tls_client_auth_san_uri: 'dns:svc.example.com' });
    expect((await token(dnsAsUri, svc)).status).toBe(401);
  });

  it('tls_client_auth by SAN: a certificate with the SAN but not from the trusted CA is refused', async () => {
    const id = await sanClient({ tls_client_auth_san_dns: 'svc.example.com' });
    expect([(await token(id, svcForged)).status, (await token(id, svcForged)).body]).toEqual([401, DENIED]);
    expect((await token(id)).status).toBe(401);
  });

  it('tls_client_auth by SAN inline in a client body, Auth0 shape with one SAN form', async () => {
    const c = await s.api('POST', '/clients', {
      name: `san-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', tls_client_auth_san_dns: 'svc.example.com' }] } },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
    expect((await token(c.body.client_id, svc)).status).toBe(200);
    const both = await s.api('POST', '/clients', {
      name: `san-${uniq()}`, client_authentication_methods: { tls_client_auth: { credentials: [{ credential_type: 'cert_subject_dn', subject_dn: 'CN=svc', tls_client_auth_san_dns: 'svc.example.com' }] } },
    });
    expect(both.status).toBe(400);
  });
});
