import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_SECRET, eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { Browser, CALLBACK, PASSWORD, createUser, createWebApp, hiddenFields } from './helpers/flows';
import { uniq } from './helpers/management';

/**
 * Failed logins in the tenant log: fp (the account exists, by email or by username) and fu (no such account), and the
 * brute-force events: limit_wc (identifier blocked from the address) and limit_mu (the address throttled), each
 * written by LoginGuard from a real password grant or the hosted login page.
 */
eachDialect('tenant logs: login failures and blocks', (dialect) => {
  let s: TestServer;
  let web: { clientId: string; secret: string };

  const ofType = async (type: string) => {
    await s.t.services.events.flush();
    return (await s.api('GET', `/logs?q=${encodeURIComponent(`type:${type}`)}&per_page=100`)).body as Array<Record<string, any>>;
  };
  const password = (username: string, pw: string, ip: string) => s.token(
    { grant_type: 'password', client_id: web.clientId, client_secret: web.secret, username, password: pw },
    { headers: { 'x-forwarded-for': ip } },
  );

  beforeAll(async () => {
    // 4 failures per address per day: each test uses its own address (a trusted proxy sets X-Forwarded-For)
    s = await startTessera(dialect, { env: { TESSERA_BRUTE_FORCE_THRESHOLD: '3', TESSERA_SUSPICIOUS_IP_THROTTLING: '4/86400', TESSERA_TRUSTED_PROXIES: '127.0.0.1' } });
    web = await createWebApp(s);
  });
  afterAll(async () => { await s.close(); });

  it('a wrong password given with the username is fp with the user id; an unknown username is fu', async () => {
    const name = `shopper_${uniq()}`;
    const userId = await createUser(s, `${name}@example.com`, { username: name });
    expect((await password(name, 'Wrong-Password-1', '198.51.100.10')).status).toBe(403);
    expect((await password(`ghost_${uniq()}`, 'Wrong-Password-1', '198.51.100.10')).status).toBe(403);
    expect((await password(name.toUpperCase(), PASSWORD, '198.51.100.10')).status).toBe(200);
    const fp = (await ofType('fp')).filter((e) => e.user_name === name);
    expect(fp).toHaveLength(1);
    expect(fp[0]).toMatchObject({ user_id: userId, client_id: web.clientId, ip: '198.51.100.10', description: 'Wrong email or password.' });
    const fu = (await ofType('fu')).filter((e) => e.user_name.startsWith('ghost_'));
    expect(fu).toHaveLength(1);
    expect(fu[0].user_id).toBeUndefined();
    const all = JSON.stringify([...fp, ...fu]);
    for (const secret of ['Wrong-Password-1', PASSWORD, web.secret, ADMIN_SECRET]) expect(all).not.toContain(secret);
  }, 60_000);

  it('the hosted login page logs fp for a wrong password by username too', async () => {
    const name = `pager_${uniq()}`;
    const userId = await createUser(s, `${name}@example.com`, { username: name });
    const b = new Browser(s);
    const q = new URLSearchParams({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid', state: 'st' });
    const start = await b.get(`/authorize?${q}`);
    expect(start.location).toMatch(/^\/u\/login/);
    const page = await b.get(start.location as string);
    const res = await b.post('/u/login', { ...hiddenFields(page.body), username: name, password: 'Wrong-Password-1' });
    expect(res.status).toBeLessThan(500);
    expect((await ofType('fp')).filter((e) => e.user_name === name)[0]).toMatchObject({ user_id: userId, client_id: web.clientId });
  });

  it('brute-force protection writes limit_wc when it blocks an identifier and limit_mu when it throttles the address', async () => {
    const email = `target-${uniq()}@example.com`;
    await createUser(s, email);
    // three failures block the identifier from 203.0.113.7 (limit_wc once made, again for the refused attempt)
    for (let i = 0; i < 3; i++) expect((await password(email, 'Wrong-Password-1', '203.0.113.7')).status).toBe(403);
    const blocked = await password(email, PASSWORD, '203.0.113.7');
    expect(blocked.status).toBe(429);
    const wc = (await ofType('limit_wc')).filter((e) => e.user_name === email);
    expect(wc).toHaveLength(2);
    expect(wc[0]).toMatchObject({ ip: '203.0.113.7', client_id: web.clientId, description: expect.stringContaining('blocked') });
    // another address is not blocked for that identifier
    expect((await password(email, PASSWORD, '203.0.113.8')).status).toBe(200);
    // four failures with different identifiers from one address empty its bucket: the next login is refused, limit_mu
    for (let i = 0; i < 4; i++) expect((await password(`spray-${i}-${uniq()}@example.com`, 'Wrong-Password-1', '192.0.2.55')).status).toBe(403);
    const throttled = await password(email, PASSWORD, '192.0.2.55');
    expect(throttled.status).toBe(429);
    const mu = (await ofType('limit_mu')).filter((e) => e.ip === '192.0.2.55');
    expect(mu).toHaveLength(1);
    expect(mu[0]).toMatchObject({ user_name: email, client_id: web.clientId, description: expect.stringContaining('suspicious') });
    expect(JSON.stringify([...wc, ...mu])).not.toContain(PASSWORD);
  }, 120_000); // eleven password checks (scrypt)
});
