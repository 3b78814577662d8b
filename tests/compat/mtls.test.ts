// mTLS (RFC 8705) against `tessera serve` over HTTPS: the suite's TLS listener asks for (does not demand) client
// certificates and trusts the suite's client CA (TESSERA_MTLS_CA). Clients register their certificate the way Auth0
// does (POST /api/v2/clients/{id}/credentials, then client_authentication_methods by credential id); a plain Node
// https.request presenting that certificate gets a token bound with cnf["x5t#S256"], which jose verifies against the
// remote JWKS; the thumbprint is compared with openssl's SHA-256 fingerprint of the certificate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { caSignedCert, clientCert, overTls, type ClientCert } from '../security/mtls';
import { caCertFile, forEachTarget, workDir } from './setup/targets';
import { apiFixture, mgmt, unique } from './setup/http';

const DENIED = { error: 'access_denied', error_description: 'Unauthorized' };

forEachTarget('mTLS (Node https client certificate, jose)', (target) => {
  const tag = unique('mtls');
  const audience = `https://${tag}.example.test/`;
  const port = Number(new URL(target.baseUrl).port);
  let ca: Buffer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let alice: ClientCert;
  let mallory: ClientCert;
  let carol: ClientCert;
  let forgedCarol: ClientCert;

  /** An M2M client granted read:orders on the mTLS API, authenticating only with the credential registered through the credentials API. */
  const certClient = async (method: 'self_signed_tls_client_auth' | 'tls_client_auth', credential: Record<string, unknown>) => {
    const c = await mgmt(target, 'POST', '/clients', { name: unique('compat-mtls'), app_type: 'non_interactive', grant_types: ['client_credentials'] });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const clientId = c.body.client_id as string;
    const cred = await mgmt(target, 'POST', `/clients/${clientId}/credentials`, credential);
    expect(cred.status, JSON.stringify(cred.body)).toBe(201);
    const enabled = await mgmt(target, 'PATCH', `/clients/${clientId}`, { client_authentication_methods: { [method]: { credentials: [{ id: cred.body.id }] } }, token_endpoint_auth_method: null });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(enabled.body.client_authentication_methods).toEqual({ [method]: { credentials: [{ id: cred.body.id }] } });
    const g = await mgmt(target, 'POST', '/client-grants', { client_id: clientId, audience, scope: ['read:orders'] });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    return { clientId, secret: c.body.client_secret as string };
  };
  const token = (form: Record<string, string>, cert?: ClientCert) =>
    overTls(port, ca, 'POST', '/oauth/token', { cert, form: { grant_type: 'client_credentials', audience, ...form } });
  const verified = async (accessToken: string) => (await jwtVerify(accessToken, jwks, { issuer: target.issuer, audience })).payload;

  let selfSigned: { clientId: string; secret: string };
  beforeAll(async () => {
    const dir = join(workDir(), 'certs');
    ca = readFileSync(caCertFile());
    alice = clientCert(dir, `alice-${target.dialect}`);
    mallory = clientCert(dir, `mallory-${target.dialect}`);
    carol = caSignedCert(join(dir, 'clients'), `carol-${target.dialect}`);
    forgedCarol = clientCert(dir, `carol-${target.dialect}`); // same subject DN, not issued by the trusted CA
    const discovery = await overTls(port, ca, 'GET', '/.well-known/openid-configuration');
    jwks = createRemoteJWKSet(new URL(discovery.body.jwks_uri));
    await apiFixture(target, {
      identifier: audience, token_dialect: 'rfc9068_profile', signing_alg: 'RS256', scopes: [{ value: 'read:orders' }],
      proof_of_possession: { mechanism: 'mtls', required: true },
    });
    selfSigned = await certClient('self_signed_tls_client_auth', { credential_type: 'x509_cert', name: 'alice', pem: alice.pem });
  });

  it('discovery advertises certificate-bound tokens and both certificate authentication methods', async () => {
    const d = await overTls(port, ca, 'GET', '/.well-known/openid-configuration');
    expect(d.body.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(d.body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
  });

  it('self_signed_tls_client_auth: the registered certificate gets a Bearer token with cnf["x5t#S256"] = its SHA-256 thumbprint (jose)', async () => {
    const r = await token({ client_id: selfSigned.clientId }, alice);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // RFC 8705 §3: a certificate-bound token is still presented as a Bearer token
    expect(r.body.token_type).toBe('Bearer');
    const claims = await verified(r.body.access_token);
    expect(claims).toMatchObject({ client_id: selfSigned.clientId, scope: 'read:orders', cnf: { 'x5t#S256': alice.x5t } });
  });

  it('self_signed_tls_client_auth: no certificate, another certificate, or the client secret are refused', async () => {
    for (const r of [
      await token({ client_id: selfSigned.clientId }),
      await token({ client_id: selfSigned.clientId }, mallory),
      await token({ client_id: selfSigned.clientId, client_secret: selfSigned.secret }, alice),
    ]) expect([r.status, r.body]).toEqual([401, DENIED]);
  });

  it('the API that requires mTLS issues nothing to a secret-authenticated client without a certificate', async () => {
    const c = await mgmt(target, 'POST', '/clients', { name: unique('compat-mtls-secret'), app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
    expect((await mgmt(target, 'POST', '/client-grants', { client_id: c.body.client_id, audience, scope: ['read:orders'] })).status).toBe(201);
    const r = await token({ client_id: c.body.client_id, client_secret: c.body.client_secret });
    expect([r.status, r.body]).toEqual([400, { error: 'invalid_request', error_description: `Client certificate required: the API "${audience}" requires mTLS-bound tokens` }]);
  });

  it('tls_client_auth: a certificate from the trusted CA with the registered subject DN gets a bound token; a self-signed look-alike is refused', async () => {
    const { clientId } = await certClient('tls_client_auth', { credential_type: 'cert_subject_dn', subject_dn: `CN=carol-${target.dialect},O=Tessera Tests` });
    const ok = await token({ client_id: clientId }, carol);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.token_type).toBe('Bearer');
    expect((await verified(ok.body.access_token)).cnf).toEqual({ 'x5t#S256': carol.x5t });
    for (const r of [await token({ client_id: clientId }, forgedCarol), await token({ client_id: clientId }, alice), await token({ client_id: clientId })]) {
      expect([r.status, r.body]).toEqual([401, DENIED]);
    }
  });
});
