import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, exportSPKI, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/databases';
import { freePort, spawnTessera, type RunningServer } from './helpers/process';

/**
 * Three `tessera serve` processes on one PostgreSQL database behind a round-robin TCP proxy written here. Mixed load
 * (client_credentials tokens, Management writes, password logins) runs for a few seconds; one instance is killed with
 * SIGKILL mid-load, the signing key is rotated and a client grant deleted through the proxy. Then: every
 * acknowledged write is there, every issued token verifies against the JWKS, no token was issued for a request sent
 * more than 50 ms after the grant's deletion was acknowledged, and errors happened only on connections to the killed
 * process. Bounded: the load runs 6 s; the whole file stays well under 40 s on an idle machine.
 */
const pgReady = await postgresAvailable();
const ADMIN = { id: 'multi-admin', secret: 'multi-admin-secret-0123456789abcdef' };
const AUDIENCE = 'https://orders.multi.test';
const PASSWORD = 'Correct-Horse-9';

interface Answer { status: number; body: any; backend: number; error?: string; sentAt: number }

describe.skipIf(!pgReady)('three instances on one PostgreSQL behind a round-robin proxy [postgres]', () => {
  let db: TestDatabase;
  const servers: RunningServer[] = [];
  const ports: number[] = [];
  let proxy: net.Server;
  let proxyPort: number;
  /** proxy side: client port → backend index of that connection */
  const routed = new Map<number, number>();
  const dead = new Set<number>();

  /** One request on a fresh connection through the proxy; which backend served it comes from the proxy's table. */
  function request(method: string, path: string, body?: Record<string, unknown>, headers: Record<string, string> = {}, form = false): Promise<Answer> {
    const sentAt = Date.now();
    const payload = body === undefined ? undefined : form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body);
    return new Promise((resolve) => {
      let localPort = -1;
      const req = http.request({ host: '127.0.0.1', port: proxyPort, method, path, agent: false, headers: {
        ...headers, ...(payload ? { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
      } }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => {
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed, backend: routed.get(localPort) ?? -1, sentAt });
        });
        res.on('error', (e) => resolve({ status: 0, body: undefined, backend: routed.get(localPort) ?? -1, error: e.message, sentAt }));
      });
      req.on('socket', (s) => s.on('connect', () => { localPort = s.localPort ?? -1; }));
      req.on('error', (e) => resolve({ status: 0, body: undefined, backend: routed.get(localPort) ?? -1, error: e.message, sentAt }));
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.end(payload);
    });
  }
  /** Retries a call that landed on the killed process (a client behind a load balancer would). */
  async function reliably(call: () => Promise<Answer>): Promise<Answer> {
    for (let i = 0; i < 6; i++) {
      const r = await call();
      if (!(r.status === 0 && dead.has(r.backend))) return r;
    }
    throw new Error('no live instance answered');
  }
  const token = (params: Record<string, string>) => request('POST', '/oauth/token', params, {}, true);
  let adminToken = '';
  const mgmt = (method: string, path: string, body?: Record<string, unknown>) => request(method, `/api/v2${path}`, body, { authorization: `Bearer ${adminToken}` });

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const masterKey = randomBytes(32).toString('base64');
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    proxyPort = await freePort();
    const env = (port: number) => ({
      TESSERA_DATABASE_URL: db.url, TESSERA_MASTER_KEY: masterKey, TESSERA_HOST: '127.0.0.1', TESSERA_PORT: String(port),
      TESSERA_PUBLIC_URL: `http://127.0.0.1:${proxyPort}`, TESSERA_ADMIN_CLIENT_ID: ADMIN.id, TESSERA_ADMIN_CLIENT_SECRET: ADMIN.secret,
      TESSERA_LOG_LEVEL: 'warn', TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off', TESSERA_BRUTE_FORCE_THRESHOLD: '0',
      TESSERA_PASSWORD_THREADS: '1',
    });
    servers.push(await spawnTessera(env(ports[0]))); // migrates and bootstraps first
    servers.push(...(await Promise.all([spawnTessera(env(ports[1])), spawnTessera(env(ports[2]))])));
    let next = 0;
    proxy = net.createServer((client) => {
      const backend = next++ % 3;
      routed.set(client.remotePort!, backend);
      const upstream = net.connect(ports[backend], '127.0.0.1');
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', () => r()));
  }, 90_000);

  afterAll(async () => {
    await new Promise((r) => proxy?.close(r));
    await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    await db?.drop();
  }, 30_000);

  it('mixed load, SIGKILL of one instance, key rotation and a grant deletion: nothing acknowledged is lost, every token verifies, no late token, errors only on the killed instance', async () => {
    const admin = await reliably(() => token({ grant_type: 'client_credentials', client_id: ADMIN.id, client_secret: ADMIN.secret, audience: `http://127.0.0.1:${proxyPort}/api/v2/` }));
    expect(admin.status).toBe(200);
    adminToken = admin.body.access_token;
    expect((await reliably(() => mgmt('POST', '/resource-servers', { identifier: AUDIENCE, name: 'Orders', scopes: [{ value: 'read:orders' }] }))).status).toBe(201);
    const m2m = (await reliably(() => mgmt('POST', '/clients', { name: 'Load M2M', app_type: 'non_interactive', grant_types: ['client_credentials'] }))).body;
    const grant = (await reliably(() => mgmt('POST', '/client-grants', { client_id: m2m.client_id, audience: AUDIENCE, scope: ['read:orders'] }))).body;
    const web = (await reliably(() => mgmt('POST', '/clients', { name: 'Load web', app_type: 'regular_web', grant_types: ['password'], callbacks: ['https://app.example/cb'] }))).body;
    expect((await reliably(() => mgmt('POST', '/users', { connection: 'Username-Password-Authentication', email: 'ada@multi.test', password: PASSWORD }))).status).toBe(201);

    const answers: Array<Answer & { kind: string }> = [];
    const created: string[] = [];
    let grantDeletedAt = Infinity;
    let stop = false;
    const loop = async (kind: string, call: () => Promise<Answer>) => {
      while (!stop) answers.push({ kind, ...(await call()) });
    };
    const loops = [
      ...Array.from({ length: 3 }, () => loop('token', () => token({ grant_type: 'client_credentials', client_id: m2m.client_id, client_secret: m2m.client_secret, audience: AUDIENCE }))),
      loop('write', async () => {
        const r = await mgmt('POST', '/clients', { name: `written-${randomBytes(4).toString('hex')}`, app_type: 'non_interactive' });
        if (r.status === 201) created.push(r.body.client_id);
        return r;
      }),
      loop('login', () => token({ grant_type: 'password', username: 'ada@multi.test', password: PASSWORD, client_id: web.client_id, client_secret: web.client_secret, audience: AUDIENCE })),
    ];
    const killed = 2;
    await new Promise((r) => setTimeout(r, 1500));
    servers[killed].proc.kill('SIGKILL');
    dead.add(killed);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await reliably(() => mgmt('POST', '/keys/signing/rotate'))).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await reliably(() => mgmt('DELETE', `/client-grants/${grant.id}`))).status).toBe(204);
    grantDeletedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    stop = true;
    await Promise.all(loops);

    // errors only on connections to the killed process
    const expected = (a: Answer & { kind: string }) =>
      a.kind === 'write' ? a.status === 201 : a.kind === 'login' ? a.status === 200 : a.status === 200 || a.status === 403;
    const failures = answers.filter((a) => !expected(a));
    expect(failures.filter((a) => a.backend !== killed).map((a) => ({ kind: a.kind, status: a.status, backend: a.backend, error: a.error, body: a.body }))).toEqual([]);
    expect(answers.filter((a) => a.kind === 'token' && a.status === 200).length).toBeGreaterThan(20);
    expect(answers.filter((a) => a.kind === 'login' && a.status === 200).length).toBeGreaterThan(0);

    // no token for a request sent more than 50 ms after the deletion was acknowledged; refusals are Auth0's
    const late = answers.filter((a) => a.kind === 'token' && a.status === 200 && a.sentAt > grantDeletedAt + 50);
    expect(late).toEqual([]);
    expect(answers.some((a) => a.kind === 'token' && a.status === 403 && a.body.error === 'access_denied')).toBe(true);

    // every acknowledged write is there
    expect(created.length).toBeGreaterThan(0);
    for (const id of created) expect((await reliably(() => mgmt('GET', `/clients/${id}`))).status).toBe(200);

    // every issued token verifies against the JWKS (old key still published as previous, new one current)
    const jwks = (await reliably(() => request('GET', '/.well-known/jwks.json'))).body as JSONWebKeySet;
    const keySet = createLocalJWKSet(jwks);
    const issued = answers.filter((a) => a.status === 200 && a.body?.access_token).map((a) => a.body.access_token as string);
    const kids = new Set<string>();
    for (const jwt of issued) {
      const { protectedHeader } = await jwtVerify(jwt, keySet, { issuer: `http://127.0.0.1:${proxyPort}/`, audience: AUDIENCE, algorithms: ['RS256'] });
      kids.add(protectedHeader.kid!);
    }
    expect(kids.size).toBe(2); // signed before and after the rotation
  }, 60_000);

  it('a private_key_jwt assertion sent 8 times at once, spread over the live instances, is accepted exactly once', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(pair.publicKey);
    const c = await reliably(() => mgmt('POST', '/clients', {
      name: 'Key holder', app_type: 'non_interactive', grant_types: ['client_credentials'],
      client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem, alg: 'RS256' }] } },
    }));
    expect(c.status).toBe(201);
    const clientId = c.body.client_id as string;
    const api = await reliably(() => mgmt('POST', '/resource-servers', { identifier: 'https://race.multi.test', scopes: [{ value: 'read:race' }] }));
    expect(api.status).toBe(201);
    expect((await reliably(() => mgmt('POST', '/client-grants', { client_id: clientId, audience: 'https://race.multi.test', scope: ['read:race'] }))).status).toBe(201);
    await new Promise((r) => setTimeout(r, 100));
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(clientId).setSubject(clientId)
      .setAudience(`http://127.0.0.1:${proxyPort}/`).setJti(randomBytes(8).toString('hex')).setIssuedAt().setExpirationTime('1m').sign(pair.privateKey);
    const params = { grant_type: 'client_credentials', audience: 'https://race.multi.test', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    const answers = (await Promise.all(Array.from({ length: 8 }, () => token(params)))).filter((a) => !dead.has(a.backend));
    expect(new Set(answers.map((a) => a.backend)).size).toBe(2); // both live instances were asked
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a).toMatchObject({ status: 401, body: { error: 'access_denied' } });
  }, 30_000);
});
