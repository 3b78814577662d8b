import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { exportSPKI } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { eachDialect } from './helpers/tessera';

/**
 * panva's openid-client (discovery + every token-endpoint client authentication method) and oauth4webapi's
 * validateJwtAccessToken (the strictest RFC 9068 resource-server check) as independent judges.
 */
const RFC9068 = 'https://strict.example/';
const PLAIN = 'https://plain.example/';

eachDialect('openid-client and oauth4webapi against Tessera', (dialect) => {
  let l: ListeningServer;
  let clientId: string;
  let secret: string;
  let keys: CryptoKeyPair;
  let rs: Server;
  let rsOrigin: string;
  const insecure = { execute: [client.allowInsecureRequests] };

  beforeAll(async () => {
    l = await startListening(dialect);
    keys = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'],
    ) as CryptoKeyPair;
    const c = await l.mgmt('POST', '/clients', {
      name: 'panva', app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic',
      client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem: await exportSPKI(keys.publicKey), alg: 'RS256' }] } },
    });
    expect(c.status).toBe(201);
    clientId = c.body.client_id;
    secret = 'p@ss:w+rd%20with spaces';
    expect((await l.mgmt('PATCH', `/clients/${clientId}`, { client_secret: secret })).status).toBe(200);
    for (const [identifier, token_dialect, signing_alg] of [[RFC9068, 'rfc9068_profile_authz', 'PS256'], [PLAIN, 'access_token', 'RS256']]) {
      expect((await l.mgmt('POST', '/resource-servers', { identifier, token_dialect, signing_alg, enforce_policies: token_dialect.endsWith('_authz'), scopes: [{ value: 'read:orders' }] })).status).toBe(201);
      expect((await l.mgmt('POST', '/client-grants', { client_id: clientId, audience: identifier, scope: ['read:orders'] })).status).toBe(201);
    }

    const issuer = new URL(`${l.origin}/`);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true, algorithm: 'oidc' }));
    rs = createServer(async (req, res) => {
      const request = new Request(`${rsOrigin}${req.url}`, { method: req.method, headers: req.headers as Record<string, string> });
      try {
        const claims = await oauth.validateJwtAccessToken(as, request, req.url === '/plain' ? PLAIN : RFC9068, { [oauth.allowInsecureRequests]: true });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claims));
      } catch (e) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (e as { code?: string }).code, message: (e as Error).message }));
      }
    });
    await new Promise<void>((r) => rs.listen(0, '127.0.0.1', r));
    rsOrigin = `http://127.0.0.1:${(rs.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => rs?.close(r));
    await l.close();
  });

  const discover = (auth: client.ClientAuth) => client.discovery(new URL(l.origin), clientId, undefined, auth, insecure);

  describe('openid-client', () => {
    it('discovers the issuer (issuer, token endpoint and JWKS URL from TESSERA_PUBLIC_URL)', async () => {
      const config = await discover(client.ClientSecretBasic(secret));
      expect(config.serverMetadata()).toMatchObject({
        issuer: `${l.origin}/`, token_endpoint: `${l.origin}/oauth/token`, jwks_uri: `${l.origin}/.well-known/jwks.json`,
      });
    });

    for (const [name, auth] of [
      ['client_secret_basic', () => client.ClientSecretBasic(secret)],
      ['client_secret_post', () => client.ClientSecretPost(secret)],
      ['private_key_jwt', () => client.PrivateKeyJwt(keys.privateKey)],
    ] as const) {
      it(`gets a token with ${name}`, async () => {
        const t = await client.clientCredentialsGrant(await discover(auth()), { audience: RFC9068, scope: 'read:orders' });
        expect(t).toMatchObject({ token_type: 'bearer', scope: 'read:orders', expires_in: 86400, access_token: expect.any(String) });
      });
    }

    it('surfaces a wrong secret as access_denied', async () => {
      const err = await client.clientCredentialsGrant(await discover(client.ClientSecretBasic('wrong')), { audience: RFC9068 }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ error: 'access_denied', error_description: 'Unauthorized', status: 401 });
    });
  });

  describe('oauth4webapi validateJwtAccessToken', () => {
    it('accepts an rfc9068_profile_authz PS256 token', async () => {
      const t = await client.clientCredentialsGrant(await discover(client.ClientSecretPost(secret)), { audience: RFC9068 });
      const res = await fetch(`${rsOrigin}/strict`, { headers: { authorization: `Bearer ${t.access_token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ iss: `${l.origin}/`, aud: RFC9068, sub: `${clientId}@clients`, client_id: clientId, scope: 'read:orders', permissions: ['read:orders'] });
    });

    it('refuses the access_token dialect (typ JWT) as RFC 9068 requires', async () => {
      const t = await client.clientCredentialsGrant(await discover(client.ClientSecretPost(secret)), { audience: PLAIN });
      const res = await fetch(`${rsOrigin}/plain`, { headers: { authorization: `Bearer ${t.access_token}` } });
      expect(res.status).toBe(401);
      expect((await res.json()).message).toMatch(/typ/);
    });
  });
});
