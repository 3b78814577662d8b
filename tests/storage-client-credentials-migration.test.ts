import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createSecretBox } from '@tessera/core';
import { migrate, openStore } from '@tessera/store';
import { makeCerts, type TestCerts } from './helpers/certs';
import { createTestDatabase, type TestDatabase } from './helpers/databases';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';
import { caSignedCert, clientCert, overTls, subjectOf, type ClientCert } from './security/mtls';

/**
 * Migration 0010 moves the credentials clients kept inside their document (every release before the credentials
 * API) into credential rows. A database written by the old layout, at migration 0008, is started by the current
 * server: the credentials keep their ids, client_authentication_methods is unchanged, and the client authenticates
 * with private_key_jwt, a self-signed certificate and a CA-issued certificate exactly as before.
 */
let certs: TestCerts;
let selfSigned: ClientCert;
let caIssued: ClientCert;
beforeAll(() => {
  certs = makeCerts();
  selfSigned = clientCert(certs.dir, 'legacy-self');
  caIssued = caSignedCert(certs.dir, 'legacy-ca');
});

const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = keyPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const CLIENT_ID = 'legacyClientWithInlineCredentials';
const at = '2026-01-01T00:00:00.000Z';

/** A client document as releases before 0010 wrote it: `credentials` inline next to client_authentication_methods. */
function legacyDoc(): Record<string, unknown> {
  const x5t = createHash('sha256').update(Buffer.from(selfSigned.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('base64url');
  return {
    name: 'legacy', app_type: 'non_interactive', grant_types: ['client_credentials'], is_first_party: true, oidc_conformant: false,
    is_token_endpoint_ip_header_trusted: false, sso_disabled: false, cross_origin_authentication: false, custom_login_page_on: true,
    jwt_configuration: { secret_encoded: false, lifetime_in_seconds: 36000 }, refresh_token: {},
    client_authentication_methods: {
      private_key_jwt: { credentials: [{ id: 'cred_legacyKey' }] },
      self_signed_tls_client_auth: { credentials: [{ id: 'cred_legacyCert' }] },
      tls_client_auth: { credentials: [{ id: 'cred_legacyDn' }] },
    },
    credentials: [
      { id: 'cred_legacyKey', credential_type: 'public_key', name: 'k1', pem: publicPem, alg: 'RS256', kid: 'legacy-kid-1', thumbprint_sha256: 'x', created_at: at, updated_at: at },
      { id: 'cred_legacyCert', credential_type: 'x509_cert', pem: selfSigned.pem, kid: x5t, thumbprint_sha256: x5t, created_at: at, updated_at: at },
      { id: 'cred_legacyDn', credential_type: 'cert_subject_dn', subject_dn: subjectOf(caIssued), created_at: at, updated_at: at },
    ],
  };
}

eachDialect('migration 0010: inline client credentials become credential rows', (dialect) => {
  let db: TestDatabase;
  let s: TestServer;
  let port: number;
  let api: string;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    const old = openStore(db.url, createSecretBox([randomBytes(32)]));
    expect(await migrate(old.db, dialect, '0008_mtls_refresh_tokens')).toContain('0008_mtls_refresh_tokens');
    await old.db.insertInto('clients').values({
      client_id: CLIENT_ID, name: 'legacy', is_global: 0, is_first_party: 1, app_type: 'non_interactive',
      doc: JSON.stringify(legacyDoc()), client_secret: null, created_at: at, updated_at: at,
    }).execute();
    await old.close();
    s = await startTessera(dialect, { database: db, env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_CA: certs.caFile } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
    api = `https://legacy-${dialect}.example/`;
    expect((await s.api('POST', '/resource-servers', { identifier: api, scopes: [{ value: 'read:data' }] })).status).toBe(201);
    expect((await s.api('POST', '/client-grants', { client_id: CLIENT_ID, audience: api, scope: ['read:data'] })).status).toBe(201);
  }, 60_000);
  afterAll(async () => { await s?.close(); await db?.drop(); });

  it('lists the three credentials with their ids, types and kid, never the PEM', async () => {
    const r = await s.api('GET', `/clients/${CLIENT_ID}/credentials`);
    expect(r.status).toBe(200);
    expect(r.body.map((c: Record<string, unknown>) => [c.id, c.credential_type])).toEqual([
      ['cred_legacyKey', 'public_key'], ['cred_legacyCert', 'x509_cert'], ['cred_legacyDn', 'cert_subject_dn'],
    ]);
    expect(r.body[0]).toMatchObject({ kid: 'legacy-kid-1', alg: 'RS256', name: 'k1', created_at: at });
    expect(r.body[2]).toMatchObject({ subject_dn: subjectOf(caIssued) });
    expect(JSON.stringify(r.body)).not.toContain('BEGIN');
  });

  it('keeps client_authentication_methods, and the document no longer holds credentials', async () => {
    const c = await s.api('GET', `/clients/${CLIENT_ID}`);
    expect(c.body.client_authentication_methods).toEqual(legacyDoc().client_authentication_methods);
    const store = openStore(db.url, createSecretBox([randomBytes(32)]));
    try {
      const row = await store.db.selectFrom('clients').select('doc').where('client_id', '=', CLIENT_ID).executeTakeFirstOrThrow();
      expect(JSON.parse(row.doc)).not.toHaveProperty('credentials');
    } finally { await store.close(); }
  });

  it('authenticates with private_key_jwt through the migrated key', async () => {
    const now = Math.floor(s.clock.now() / 1000);
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'legacy-kid-1' }).setIssuer(CLIENT_ID).setSubject(CLIENT_ID)
      .setAudience(`${PUBLIC_URL}/`).setJti(randomUUID()).setIssuedAt(now).setExpirationTime(now + 60).sign(keyPair.privateKey);
    const r = await s.token({ grant_type: 'client_credentials', audience: api, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('authenticates with the migrated self-signed certificate and the migrated subject DN', async () => {
    const form = { grant_type: 'client_credentials', audience: api, client_id: CLIENT_ID };
    expect((await overTls(port, certs.ca, 'POST', '/oauth/token', { form, cert: selfSigned })).status).toBe(200);
    expect((await overTls(port, certs.ca, 'POST', '/oauth/token', { form, cert: caIssued })).status).toBe(200);
    expect((await overTls(port, certs.ca, 'POST', '/oauth/token', { form, cert: clientCert(certs.dir, 'legacy-other') })).status).toBe(401);
  });
});
