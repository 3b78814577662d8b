import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, createApi, createUser, createWebApp } from './helpers/flows';
import { startListening, type ListeningServer } from './helpers/listening';
import { eachDialect, PUBLIC_URL } from './helpers/tessera';

const API = 'https://rar-judged.example/';
const PAYMENT = { type: 'payment_initiation', instructedAmount: { amount: '42.00', currency: 'EUR' }, creditorName: 'Bakery' };

/**
 * oauth4webapi judges PAR (RFC 9126) with rich authorization requests (RFC 9396): it reads the PAR endpoint from
 * discovery, pushes authorization_details with PKCE, the hosted login and consent pages are driven through
 * /authorize?client_id&request_uri, and it validates the callback (iss included) and the code exchange; jose then
 * verifies the access token's authorization_details against the served JWKS.
 */
eachDialect('PAR + RAR judged by oauth4webapi', (dialect) => {
  let l: ListeningServer;
  let as: oauth.AuthorizationServer;
  let web: { clientId: string; secret: string };
  const email = 'rar-judged@example.com';
  /** The client calls https://tessera.test (the issuer); the requests go to the socket. */
  const toSocket = (input: RequestInfo | URL, init?: RequestInit) => fetch(String(input instanceof Request ? input.url : input).replace(PUBLIC_URL, l.origin), init);
  const opts = { [oauth.customFetch]: toSocket } as const;

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    await createApi(l.s, API, { authorization_details: [{ type: 'payment_initiation' }, { type: 'account_information' }] });
    web = await createWebApp(l.s);
    expect((await l.s.api('POST', '/client-grants', { client_id: web.clientId, audience: API, scope: ['read:orders'], subject_type: 'user', authorization_details_types: ['payment_initiation'] })).status).toBe(201);
    await createUser(l.s, email);
    const issuer = new URL(`${PUBLIC_URL}/`);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oidc' }));
  });
  afterAll(async () => { await l.close(); });

  it('discovery gives oauth4webapi the PAR endpoint and the registered authorization_details types', () => {
    expect(as.pushed_authorization_request_endpoint).toBe(`${PUBLIC_URL}/oauth/par`);
    expect(as.authorization_details_types_supported).toEqual(['account_information', 'payment_initiation']);
  });

  it('pushedAuthorizationRequest → hosted login and consent → authorizationCodeGrantRequest: the details survive end to end', async () => {
    const client: oauth.Client = { client_id: web.clientId };
    const auth = oauth.ClientSecretPost(web.secret);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const pushed = await oauth.pushedAuthorizationRequest(as, client, auth, {
      response_type: 'code', redirect_uri: CALLBACK, audience: API, scope: 'openid read:orders', state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      authorization_details: JSON.stringify([PAYMENT]),
    }, opts);
    const par = await oauth.processPushedAuthorizationResponse(as, client, pushed);
    expect(par.expires_in).toBe(30);

    const { res, pages, consentHtml } = await authorize(l.s, new Browser(l.s), { client_id: web.clientId, request_uri: par.request_uri }, { email });
    expect(pages).toEqual(['login', 'consent']);
    expect(consentHtml).toContain('<code>payment_initiation</code>');
    const params = oauth.validateAuthResponse(as, client, new URL(res.location as string), state);

    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, CALLBACK, verifier, opts);
    const t = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(t.authorization_details).toEqual([PAYMENT]);
    const jwks = createLocalJWKSet(await (await toSocket(as.jwks_uri as string)).json());
    const at = await jwtVerify(t.access_token, jwks, { issuer: as.issuer, audience: API, currentDate: new Date(l.s.clock.now()) });
    expect(at.payload.authorization_details).toEqual([PAYMENT]);

    // the request_uri was single use: oauth4webapi's second visit is refused
    const again = await new Browser(l.s).get(`/authorize?${new URLSearchParams({ client_id: web.clientId, request_uri: par.request_uri })}`);
    expect(again.status).toBe(400);
  });

  it('refusals reach oauth4webapi as OAuth errors: a type the grant does not allow, a wrong client secret', async () => {
    const client: oauth.Client = { client_id: web.clientId };
    const base = { response_type: 'code', redirect_uri: CALLBACK, audience: API, scope: 'read:orders' };
    const denied = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, oauth.ClientSecretPost(web.secret),
      { ...base, authorization_details: JSON.stringify([{ type: 'account_information' }]) }, opts)).then(() => undefined, (e: unknown) => e);
    expect(denied).toBeInstanceOf(oauth.ResponseBodyError);
    expect(denied).toMatchObject({ status: 400, error: 'invalid_authorization_details' });
    const wrongKey = await oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, oauth.ClientSecretPost(`${web.secret}x`),
      base, opts)).then(() => undefined, (e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(oauth.ResponseBodyError);
    // Auth0 answers every failed client authentication with 401 access_denied "Unauthorized"
    expect(wrongKey).toMatchObject({ status: 401, error: 'access_denied', error_description: 'Unauthorized' });
  });
});
