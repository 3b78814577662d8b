import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@tessera/server';
import { Browser, CALLBACK, CONNECTION, createApi, createUser, createWebApp, hiddenFields, PASSWORD } from './helpers/flows';
import { startTessera, type TestServer } from './helpers/tessera';

/**
 * Passwords are hashed and verified on a worker-thread pool of their own (one thread, one waiting slot here), with a
 * lowered priority; past the bound, logins are refused at once: OAuth 503 temporarily_unavailable, a friendly login
 * page, a Management 503 — and nothing is written.
 */
const SHED = { error: 'temporarily_unavailable', error_description: 'Too many login attempts are being processed; try again shortly.' };
const API = 'https://orders.pool.test';

describe('password hashing pool', () => {
  let s: TestServer;
  let web: { clientId: string; secret: string };

  const grant = (password: string, username = 'ada@pool.test') =>
    s.token({ grant_type: 'password', username, password, client_id: web.clientId, client_secret: web.secret, audience: API });
  /**
   * A login flood (8 loops of wrong-password grants) that keeps the pool's one thread and one waiting slot taken;
   * `until` runs while it lasts and is retried a few times, since a slot frees for an instant between two derivations.
   */
  async function duringFlood<T>(attempt: (i: number) => Promise<T>, shed: (r: T) => boolean): Promise<T> {
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => { while (!stop) await grant('Wrong-pass-flood'); });
    try {
      const since = Date.now();
      while (s.t.passwords.inFlight() < 2 && Date.now() - since < 5000) await new Promise((r) => setImmediate(r));
      let last!: T;
      for (let i = 0; i < 10; i++) {
        last = await attempt(i);
        if (shed(last)) break;
      }
      return last;
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  }

  beforeAll(async () => {
    s = await startTessera('sqlite', { env: { TESSERA_PASSWORD_THREADS: '1', TESSERA_PASSWORD_QUEUE: '1', TESSERA_PASSWORD_NICE: '7' } });
    await createApi(s, API);
    web = await createWebApp(s);
    await createUser(s, 'ada@pool.test');
  });
  afterAll(async () => { await s?.close(); });

  it('a burst beyond one running and one waiting derivation is shed with 503 temporarily_unavailable and Retry-After; the rest answer normally', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => grant(`Wrong-pass-${i}`)));
    const shed = answers.filter((r) => r.status === 503);
    const checked = answers.filter((r) => r.status === 403);
    expect(shed.length + checked.length).toBe(6);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    for (const r of checked) expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
    for (const r of shed) {
      expect(r.body).toEqual(SHED);
      expect(r.headers).toMatchObject({ 'retry-after': '1', 'cache-control': 'no-store' });
    }
    // nothing is stuck: the pool is empty again and the right password works
    expect(s.t.passwords.inFlight()).toBe(0);
    expect((await grant(PASSWORD)).status).toBe(200);
  });

  it('an unknown user is shed the same way as a known one (the decoy hash goes through the same pool)', async () => {
    const r = await duringFlood(() => grant('whatever-1', 'ghost@pool.test'), (x) => x.status === 503);
    expect(r.status).toBe(503);
    expect(r.body).toEqual(SHED);
  });

  it('the hosted login page answers a full pool with the form again, a friendly message and 503', async () => {
    let b!: Browser;
    const r = await duringFlood(async () => {
      b = new Browser(s);
      const start = await b.get(`/authorize?${new URLSearchParams({ response_type: 'code', client_id: web.clientId, redirect_uri: CALLBACK, scope: 'openid', state: 'st' })}`);
      const page = await b.get(start.location!);
      expect(page.status).toBe(200);
      return b.post('/u/login', { ...hiddenFields(page.body), username: 'ada@pool.test', password: PASSWORD });
    }, (x) => x.status === 503);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.body).toContain('We are receiving too many sign-in attempts right now. Please wait a moment and try again.');
    expect(r.body).toContain('<form method="post" action="/u/login"');
    // the same form, submitted again once the flood is over, logs in
    const again = await b.post('/u/login', { ...hiddenFields(r.body), username: 'ada@pool.test', password: PASSWORD });
    expect(again.status).toBe(302);
  });

  it('a Management user creation on a full pool is a 503 in the Management envelope, and nothing is written', async () => {
    let email = '';
    const r = await duringFlood((i) => {
      email = `late${i}@pool.test`;
      return s.api('POST', '/users', { connection: CONNECTION, email, password: PASSWORD });
    }, (x) => x.status === 503);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: SHED.error_description, errorCode: 'temporarily_unavailable' });
    const users = (await s.api('GET', '/users?per_page=100')).body as Array<{ email: string }>;
    expect(users.map((u) => u.email)).not.toContain(email);
    expect((await s.api('POST', '/users', { connection: CONNECTION, email, password: PASSWORD })).status).toBe(201);
  });

  it.skipIf(process.platform !== 'linux')('hashes on a thread of its own whose nice value is raised by TESSERA_PASSWORD_NICE; no other thread is', () => {
    const nices = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
    });
    const base = nices[0]; // the main thread (task id = pid comes first)
    expect(nices.filter((n) => n === base + 7)).toHaveLength(1);
    expect(nices.filter((n) => n !== base && n !== base + 7)).toEqual([]);
  });

  it('the hashing thread stays between logins: its idle timer fits in a Node timer (no TimeoutOverflowWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => { warnings.push(w.name); };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 2; i++) expect((await grant('Wrong-pass-idle')).status).toBe(403);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('refuses bad settings at start-up, naming the variable', () => {
    for (const [name, value] of [['TESSERA_PASSWORD_THREADS', '0'], ['TESSERA_PASSWORD_QUEUE', '-1'], ['TESSERA_PASSWORD_NICE', '20'], ['TESSERA_PASSWORD_THREADS', 'two']]) {
      expect(() => loadConfig({ TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), [name]: value })).toThrow(name);
    }
    const c = loadConfig({ TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(c.passwordPool).toEqual({ threads: expect.any(Number), queue: 32, niceIncrement: 19 });
    expect(c.passwordPool.threads).toBeGreaterThanOrEqual(1);
  });
});
