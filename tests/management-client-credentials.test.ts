import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagementClient, Management } from 'auth0';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from './helpers/certs';
import { startListening, type ListeningServer } from './helpers/listening';
import { uniq } from './helpers/management';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';
import { clientCert } from './security/mtls';

/**
 * Auth0's client credentials API (/api/v2/clients/{id}/credentials) judged by the auth0 v7 SDK's
 * `clients.credentials` manager, and private_key_jwt through a credential it created judged by openid-client.
 * Every refusal (private keys, misplaced fields, dangling or mistyped references, deleting one in use, expiry)
 * is asserted with its answer and with nothing left behind.
 */
function rewritingFetch(from: string, to: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = url.startsWith(from) ? to + url.slice(from.length) : url;
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}

/** An RSA key pair and a self-signed certificate for it (openssl), for public_key credentials given as certificates. */
function rsaCertificate(dir: string, name: string) {
  const f = (n: string) => join(dir, `${name}.${n}`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key'), '-out', f('crt'), '-days', '3', '-subj', `/CN=${name}`], { stdio: 'pipe' });
  return { certPem: readFileSync(f('crt'), 'utf8'), keyPem: readFileSync(f('key'), 'utf8') };
}

let certs: TestCerts;
beforeAll(() => { certs = makeCerts(); });

const rsa = () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    pkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pkcs1: pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    signingKey: () => crypto.subtle.importKey('pkcs8', pair.privateKey.export({ type: 'pkcs8', format: 'der' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']),
    publicKey: pair.publicKey,
  };
};
const bad = (message: string, errorCode = 'invalid_body') => ({ statusCode: 400, error: 'Bad Request', message, errorCode });

eachDialect('client credentials API', (dialect) => {
  let l: ListeningServer;
  let mgmt: ManagementClient;
  let api: string;
  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: rewritingFetch(PUBLIC_URL, l.origin) });
    api = `https://creds-${uniq()}.example/`;
    expect((await l.mgmt('POST', '/resource-servers', { identifier: api, scopes: [{ value: 'read:data' }] })).status).toBe(201);
  }, 30_000);
  afterAll(async () => { await l?.close(); });

  const m2m = async () => {
    const c = await mgmt.clients.create({ name: `creds-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
    expect((await l.mgmt('POST', '/client-grants', { client_id: c.client_id, audience: api, scope: ['read:data'] })).status).toBe(201);
    return c as { client_id: string; client_secret: string };
  };
  const creds = (id: string) => l.mgmt('GET', `/clients/${id}/credentials`);

  describe('the auth0 SDK clients.credentials manager', () => {
    it('creates, lists, gets, updates and deletes credentials in Auth0\'s shapes, never returning the PEM', async () => {
      const c = await m2m();
      const key = rsa();
      const pk = await mgmt.clients.credentials.create(c.client_id, { credential_type: 'public_key', name: 'k1', pem: key.publicPem });
      const jkt = await calculateJwkThumbprint(await exportJWK(key.publicKey), 'sha256');
      expect(pk).toEqual({
        id: expect.stringMatching(/^cred_/), name: 'k1', credential_type: 'public_key', alg: 'RS256', kid: jkt, thumbprint_sha256: jkt,
        created_at: expect.any(String), updated_at: pk.created_at,
      });
      const self = clientCert(certs.dir, `sdk-${uniq()}`);
      const cert = await mgmt.clients.credentials.create(c.client_id, { credential_type: 'x509_cert', name: 'cert', pem: self.pem });
      expect(cert).toMatchObject({
        credential_type: 'x509_cert', thumbprint_sha256: self.x5t, subject_dn: new X509Certificate(self.pem).subject,
        expires_at: new Date(new X509Certificate(self.pem).validTo).toISOString(),
      });
      expect(await mgmt.clients.credentials.list(c.client_id)).toEqual([pk, cert]);
      expect(await mgmt.clients.credentials.get(c.client_id, pk.id!)).toEqual(pk);
      expect(JSON.stringify((await creds(c.client_id)).body)).not.toContain('BEGIN');

      const expires = new Date(Date.now() + 86_400_000).toISOString();
      const updated = await mgmt.clients.credentials.update(c.client_id, pk.id!, { expires_at: expires });
      expect(updated).toMatchObject({ id: pk.id, expires_at: expires, kid: jkt });
      const later = new Date(Date.now() + 10 * 365 * 86_400_000).toISOString();
      expect((await mgmt.clients.credentials.update(c.client_id, cert.id!, { expires_at: later })).expires_at).toBe(cert.expires_at); // never past the certificate
      expect((await mgmt.clients.credentials.update(c.client_id, pk.id!, { expires_at: null })).expires_at).toBeUndefined();

      const third = await mgmt.clients.credentials.create(c.client_id, { credential_type: 'public_key', pem: rsa().publicPem }).then(() => undefined, (e: unknown) => e);
      expect(third).toBeInstanceOf(Management.BadRequestError);
      expect((third as Management.BadRequestError).body).toMatchObject({ errorCode: 'too_many_credentials' });

      await mgmt.clients.credentials.delete(c.client_id, cert.id!);
      const gone = await mgmt.clients.credentials.get(c.client_id, cert.id!).then(() => undefined, (e: unknown) => e);
      expect(gone).toBeInstanceOf(Management.NotFoundError);
      expect((gone as Management.NotFoundError).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'The credential does not exist', errorCode: 'inexistent_credential' });
      expect((await mgmt.clients.credentials.list(c.client_id)).map((x) => x.id)).toEqual([pk.id]);
    });

    it('cert_subject_dn credentials: a subject DN, the DN of a PEM, or one subject alternative name', async () => {
      const c = await m2m();
      const dn = await mgmt.clients.credentials.create(c.client_id, { credential_type: 'cert_subject_dn', subject_dn: 'CN=svc,O=Acme' });
      expect(dn).toMatchObject({ credential_type: 'cert_subject_dn', subject_dn: 'CN=svc,O=Acme', name: '' });
      const san = await l.mgmt('POST', `/clients/${c.client_id}/credentials`, { credential_type: 'cert_subject_dn', tls_client_auth_san_dns: 'svc.example.com' });
      expect(san.status).toBe(201);
      expect(san.body).toMatchObject({ credential_type: 'cert_subject_dn', tls_client_auth_san_dns: 'svc.example.com' });
      expect(san.body).not.toHaveProperty('subject_dn');
    });

    it('a credential of an unknown client is 404 inexistent_client', async () => {
      const e = await mgmt.clients.credentials.list('no-such-client').then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(Management.NotFoundError);
      expect((e as Management.NotFoundError).body).toMatchObject({ errorCode: 'inexistent_client' });
    });
  });

  describe('private_key_jwt through a credential created with the API (openid-client as the client)', () => {
    let c: { client_id: string; client_secret: string };
    let key: ReturnType<typeof rsa>;
    let credentialId: string;
    const grant = async () => {
      const config = await oidc.discovery(new URL(PUBLIC_URL), c.client_id, undefined, oidc.PrivateKeyJwt(await key.signingKey()),
        { [oidc.customFetch]: rewritingFetch(PUBLIC_URL, l.origin) as unknown as oidc.CustomFetch });
      return oidc.clientCredentialsGrant(config, { audience: api }).then((t) => t.access_token, (e: unknown) => e as Error);
    };
    beforeAll(async () => {
      c = await m2m();
      key = rsa();
      credentialId = (await mgmt.clients.credentials.create(c.client_id, { credential_type: 'public_key', name: 'pkjwt', pem: key.publicPem, alg: 'RS256' })).id!;
    });

    it('is not used until client_authentication_methods refers to it', async () => {
      expect(await grant()).toBeInstanceOf(oidc.ResponseBodyError);
    });

    it('authenticates once enabled; the secret no longer does', async () => {
      const patched = await mgmt.clients.update(c.client_id, { client_authentication_methods: { private_key_jwt: { credentials: [{ id: credentialId }] } }, token_endpoint_auth_method: null });
      expect(patched.client_authentication_methods).toEqual({ private_key_jwt: { credentials: [{ id: credentialId }] } });
      expect(typeof await grant()).toBe('string');
      const bySecret = await l.s.token({ grant_type: 'client_credentials', audience: api, client_id: c.client_id, client_secret: c.client_secret });
      expect([bySecret.status, bySecret.body]).toEqual([401, { error: 'access_denied', error_description: 'Unauthorized' }]);
    });

    it('an expired credential is refused at authentication, and works again once its expiry is removed', async () => {
      expect((await l.mgmt('PATCH', `/clients/${c.client_id}/credentials/${credentialId}`, { expires_at: new Date(Date.now() - 60_000).toISOString() })).status).toBe(200);
      expect(await grant()).toBeInstanceOf(oidc.ResponseBodyError);
      expect((await l.mgmt('PATCH', `/clients/${c.client_id}/credentials/${credentialId}`, { expires_at: null })).status).toBe(200);
      expect(typeof await grant()).toBe('string');
    });

    it('a credential in use cannot be deleted; once no method refers to it, it can', async () => {
      const r = await l.mgmt('DELETE', `/clients/${c.client_id}/credentials/${credentialId}`);
      expect(r.body).toEqual(bad('The credential is in use by the client authentication method private_key_jwt; remove it from client_authentication_methods first.', 'credential_in_use'));
      expect((await creds(c.client_id)).body).toHaveLength(1);
      expect((await l.mgmt('PATCH', `/clients/${c.client_id}`, { client_authentication_methods: null, token_endpoint_auth_method: 'client_secret_post' })).status).toBe(200);
      expect(await grant()).toBeInstanceOf(oidc.ResponseBodyError);
      expect((await l.mgmt('DELETE', `/clients/${c.client_id}/credentials/${credentialId}`)).status).toBe(204);
      expect((await creds(c.client_id)).body).toEqual([]);
    });
  });

  describe('refusals', () => {
    let c: { client_id: string };
    beforeAll(async () => { c = await m2m(); });
    const post = (body: Record<string, unknown>) => l.mgmt('POST', `/clients/${c.client_id}/credentials`, body);
    const nothingCreated = async () => expect((await creds(c.client_id)).body).toEqual([]);

    it('refuses private keys in pem (PKCS#8 and PKCS#1), storing nothing', async () => {
      const key = rsa();
      for (const pem of [key.pkcs8, key.pkcs1]) {
        const r = await post({ credential_type: 'public_key', pem });
        expect(r.body).toEqual(bad("Payload validation error: 'Invalid PEM: private keys are not accepted; send the public key or the certificate' on property pem."));
      }
      const r = await post({ credential_type: 'x509_cert', pem: key.pkcs8 });
      expect(r.status).toBe(400);
      await nothingCreated();
    });

    it('refuses fields that do not apply to the credential type', async () => {
      const self = clientCert(certs.dir, `ref-${uniq()}`);
      expect((await post({ credential_type: 'x509_cert', pem: self.pem, alg: 'RS256' })).body)
        .toEqual(bad("Payload validation error: 'alg does not apply to credential_type x509_cert' on property alg."));
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, subject_dn: 'CN=x' })).body)
        .toEqual(bad("Payload validation error: 'subject_dn does not apply to credential_type public_key' on property subject_dn."));
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, tls_client_auth_san_dns: 'a.example' })).status).toBe(400);
      await nothingCreated();
    });

    it('refuses non-RSA keys, unreadable PEMs, bad dates, bad kids and unknown fields', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect((await post({ credential_type: 'public_key', pem: ec })).body).toEqual(bad("Payload validation error: 'Invalid PEM: expected an RSA public key or certificate' on property pem."));
      expect((await post({ credential_type: 'x509_cert', pem: 'nope' })).body).toEqual(bad("Payload validation error: 'Invalid PEM: expected an X509 certificate' on property pem."));
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, expires_at: 'soon' })).body)
        .toEqual(bad("Payload validation error: 'Object didn't pass validation for format date-time: soon' on property expires_at."));
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, kid: 'short' })).status).toBe(400);
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, thumbprint_sha256: 'mine' })).status).toBe(400);
      expect((await post({ credential_type: 'public_key', pem: 'x'.repeat(9000) })).status).toBe(400);
      expect((await post({ credential_type: 'password', pem: rsa().publicPem })).status).toBe(400);
      await nothingCreated();
    });

    it('parse_expiry_from_cert takes notAfter from a certificate; refused for a bare key or together with expires_at', async () => {
      const { certPem } = rsaCertificate(certs.dir, `rsa-${uniq()}`);
      expect((await post({ credential_type: 'public_key', pem: rsa().publicPem, parse_expiry_from_cert: true })).body)
        .toEqual(bad("Payload validation error: 'parse_expiry_from_cert needs an X509 certificate in pem' on property pem."));
      expect((await post({ credential_type: 'public_key', pem: certPem, parse_expiry_from_cert: true, expires_at: new Date().toISOString() })).body)
        .toEqual(bad("Payload validation error: 'parse_expiry_from_cert and expires_at are mutually exclusive'."));
      await nothingCreated();
      const r = await post({ credential_type: 'public_key', pem: certPem, parse_expiry_from_cert: true });
      expect(r.status).toBe(201);
      expect(r.body.expires_at).toBe(new Date(new X509Certificate(certPem).validTo).toISOString());
      expect((await l.mgmt('DELETE', `/clients/${c.client_id}/credentials/${r.body.id}`)).status).toBe(204);
    });

    it('cert_subject_dn needs exactly one of pem, subject_dn and the SAN forms, each well-formed', async () => {
      const one = "Payload validation error: 'Exactly one of pem, subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email is required'.";
      expect((await post({ credential_type: 'cert_subject_dn' })).body).toEqual(bad(one));
      expect((await post({ credential_type: 'cert_subject_dn', subject_dn: 'CN=a', tls_client_auth_san_dns: 'a.example' })).body).toEqual(bad(one));
      expect((await post({ credential_type: 'cert_subject_dn', tls_client_auth_san_ip: '10.0.0.1', tls_client_auth_san_email: 'a@b.example' })).body).toEqual(bad(one));
      expect((await post({ credential_type: 'cert_subject_dn', tls_client_auth_san_ip: '999.1.1.1' })).body)
        .toEqual(bad("Payload validation error: 'Invalid ip subject alternative name' on property tls_client_auth_san_ip."));
      expect((await post({ credential_type: 'cert_subject_dn', tls_client_auth_san_dns: 'not a host' })).status).toBe(400);
      expect((await post({ credential_type: 'cert_subject_dn', tls_client_auth_san_uri: 'no-scheme' })).status).toBe(400);
      expect((await post({ credential_type: 'cert_subject_dn', tls_client_auth_san_email: 'nobody' })).status).toBe(400);
      expect((await post({ credential_type: 'cert_subject_dn', subject_dn: 'not a dn' })).status).toBe(400);
      await nothingCreated();
    });

    it('PATCH changes expires_at only', async () => {
      const r = await post({ credential_type: 'public_key', pem: rsa().publicPem });
      const path = `/clients/${c.client_id}/credentials/${r.body.id}`;
      for (const body of [{ name: 'renamed' }, { alg: 'PS256' }, { pem: rsa().publicPem }]) expect((await l.mgmt('PATCH', path, body)).status).toBe(400);
      expect((await l.mgmt('PATCH', path, { expires_at: 'tomorrow' })).status).toBe(400);
      expect((await l.mgmt('GET', path)).body).toEqual(r.body);
      expect((await l.mgmt('DELETE', path)).status).toBe(204);
      expect((await l.mgmt('PATCH', path, { expires_at: null })).status).toBe(404);
      expect((await l.mgmt('DELETE', path)).status).toBe(404);
    });

    it('client_authentication_methods refuses a credential of another type, of another client, or twice', async () => {
      const other = await m2m();
      const own = await post({ credential_type: 'cert_subject_dn', subject_dn: 'CN=own' });
      const theirs = await l.mgmt('POST', `/clients/${other.client_id}/credentials`, { credential_type: 'public_key', pem: rsa().publicPem });
      const patch = (m: unknown) => l.mgmt('PATCH', `/clients/${c.client_id}`, { client_authentication_methods: m });
      expect((await patch({ private_key_jwt: { credentials: [{ id: own.body.id }] } })).body).toEqual(bad(
        `Payload validation error: 'Credential ${own.body.id} is a cert_subject_dn credential; private_key_jwt takes public_key' on property client_authentication_methods.private_key_jwt.credentials[0].`));
      expect((await patch({ private_key_jwt: { credentials: [{ id: theirs.body.id }] } })).body).toEqual(bad(
        `Payload validation error: 'Unknown credential ${theirs.body.id}' on property client_authentication_methods.private_key_jwt.credentials[0].`));
      expect((await patch({ tls_client_auth: { credentials: [{ id: own.body.id }, { id: own.body.id }] } })).status).toBe(400);
      expect((await l.mgmt('GET', `/clients/${c.client_id}`)).body).not.toHaveProperty('client_authentication_methods');
      expect((await l.mgmt('DELETE', `/clients/${c.client_id}/credentials/${own.body.id}`)).status).toBe(204);
    });

    it('deleting the client deletes its credentials', async () => {
      const gone = await m2m();
      expect((await l.mgmt('POST', `/clients/${gone.client_id}/credentials`, { credential_type: 'public_key', pem: rsa().publicPem })).status).toBe(201);
      expect((await l.mgmt('DELETE', `/clients/${gone.client_id}`)).status).toBe(204);
      expect((await creds(gone.client_id)).status).toBe(404);
    });
  });
});
