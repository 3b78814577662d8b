import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../helpers/certs';
import { freePort } from '../helpers/listening';
import { uniq } from '../helpers/management';
import { eachDialect, PUBLIC_URL, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m, proof, proofKey, TOKEN_URL, type ProofKey } from './dpop';
import { overTls } from './mtls';

/**
 * What a DPoP proof's `htu` and a private_key_jwt assertion's `aud` must name when discovery advertises
 * mtls_endpoint_aliases (RFC 8705 §5). On the separate mTLS listener (TESSERA_MTLS_PORT) a proof names the alias,
 * the URL the request was sent to (RFC 9449 §4.3 step 9), and on the main listener the public URL; a client
 * assertion may name the issuer, the public token URL or the alias token URL on either. Where the alias is only a
 * second name of the main listener (TESSERA_MTLS_PUBLIC_URL alone), a proof may name either URL.
 */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const refusedHtu = (url: string) => ({ error: 'invalid_dpop_proof', error_description: `Invalid DPoP proof: htu must be ${url}` });

let certs: TestCerts;
beforeAll(() => { certs = makeCerts(); });

eachDialect('security: the mTLS port as mtls_endpoint_aliases target', (dialect) => {
  let s: TestServer;
  let port: number;
  let mtlsPort: number;
  let alias: string;
  let audience: string;
  let client: { client_id: string; client_secret: string };
  let keyHolder: { id: string; privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'] };
  let key: ProofKey;
  beforeAll(async () => {
    mtlsPort = await freePort();
    s = await startTessera(dialect, { masterKey: randomBytes(32).toString('base64'), env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_PORT: String(mtlsPort) } });
    await s.t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.t.app.server.address() as { port: number }).port;
    expect(await s.t.listenMtls()).toBe(mtlsPort);
    alias = `https://${new URL(PUBLIC_URL).hostname}:${mtlsPort}`;
    audience = await dpopApi(s, { mechanism: 'dpop', required: false });
    client = await m2m(s, audience);
    key = await proofKey();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const c = await s.api('POST', '/clients', {
      name: `alias-jwt-${uniq()}`, app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k1', pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, alg: 'RS256' }] } },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect((await s.api('POST', '/client-grants', { client_id: c.body.client_id, audience, scope: ['read:data'] })).status).toBe(201);
    keyHolder = { id: c.body.client_id, privateKey };
  }, 30_000);
  afterAll(async () => { await s?.close(); });

  const withProof = async (on: number, htu: string) => overTls(on, certs.ca, 'POST', '/oauth/token', {
    form: { grant_type: 'client_credentials', audience, ...client },
    headers: { dpop: await proof(key, { now: s.clock.now(), htu }) },
  });
  const withAssertion = async (on: number, aud: string) => {
    const now = Math.floor(s.clock.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'RS256' })
      .setIssuer(keyHolder.id).setSubject(keyHolder.id).setAudience(aud).setIssuedAt(now).setExpirationTime(now + 60).sign(keyHolder.privateKey);
    return overTls(on, certs.ca, 'POST', '/oauth/token', { form: { grant_type: 'client_credentials', audience, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion } });
  };

  it('discovery names the mTLS port as the alias', async () => {
    const d = await overTls(port, certs.ca, 'GET', '/.well-known/openid-configuration');
    expect(d.body.mtls_endpoint_aliases.token_endpoint).toBe(`${alias}/oauth/token`);
  });

  it('on the mTLS port a proof names the alias token URL; the public URL is refused there', async () => {
    const r = await withProof(mtlsPort, `${alias}/oauth/token`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.token_type).toBe('DPoP');
    expect(claimsOf(r.body.access_token).cnf.jkt).toBeTypeOf('string');
    expect(await withProof(mtlsPort, TOKEN_URL)).toMatchObject({ status: 400, body: refusedHtu(`${alias}/oauth/token`) });
  });

  it('on the main port a proof names the public token URL; the alias is refused there', async () => {
    expect((await withProof(port, TOKEN_URL)).status).toBe(200);
    expect(await withProof(port, `${alias}/oauth/token`)).toMatchObject({ status: 400, body: refusedHtu(TOKEN_URL) });
  });

  it('a client assertion may name the issuer, the public token URL or the alias token URL, on either port; nothing else', async () => {
    for (const on of [mtlsPort, port]) {
      for (const aud of [`${PUBLIC_URL}/`, TOKEN_URL, `${alias}/oauth/token`]) {
        const r = await withAssertion(on, aud);
        expect(r.status, `${on === port ? 'main' : 'mTLS'} port, aud ${aud}: ${JSON.stringify(r.body)}`).toBe(200);
      }
      for (const aud of [`${alias}/`, `${alias}/oauth/par`, 'https://elsewhere.example/oauth/token']) {
        expect((await withAssertion(on, aud)).body, aud).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
      }
    }
  });
});

describe('security: an mTLS alias that names the main listener (TESSERA_MTLS_PUBLIC_URL alone) [sqlite]', () => {
  let s: TestServer;
  let audience: string;
  let client: { client_id: string; client_secret: string };
  let key: ProofKey;
  const alias = 'https://mtls.tessera.test';
  beforeAll(async () => {
    s = await startTessera('sqlite', { env: { TESSERA_TLS_CERT: certs.certFile, TESSERA_TLS_KEY: certs.keyFile, TESSERA_MTLS_PUBLIC_URL: alias } });
    audience = await dpopApi(s, { mechanism: 'dpop', required: false });
    client = await m2m(s, audience);
    key = await proofKey();
  });
  afterAll(async () => { await s?.close(); });

  const send = async (htu: string) => s.token({ grant_type: 'client_credentials', audience, ...client }, { headers: { dpop: await proof(key, { now: s.clock.now(), htu }) } });

  it('a proof may name the public URL or the alias; any other URL is refused', async () => {
    expect((await send(TOKEN_URL)).status).toBe(200);
    expect((await send(`${alias}/oauth/token`)).status).toBe(200);
    expect(await send('https://elsewhere.example/oauth/token')).toMatchObject({ status: 400, body: refusedHtu(TOKEN_URL) });
    expect(await send(`${alias}/userinfo`)).toMatchObject({ status: 400 });
  });
});
