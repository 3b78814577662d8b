import { ManagementClient, Management } from 'auth0';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';
import { badRequest } from './helpers/management';

/**
 * `requires_username` and `validation.username` on the database connection, driven through the auth0 SDK v7's
 * `connections` and `users` managers over a real socket: set with PATCH /connections/{id}, read back, enforced when
 * users are created and renamed, and the username accepted at login (password-realm).
 */
const DB = 'Username-Password-Authentication';
const PASSWORD = 'passpass$12$12';
const REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const bodyOf = (e: unknown) => (e as Management.BadRequestError).body;
const USERNAME_PROPERTY = "on property username (The user's username. Only valid if the connection requires a username.).";

eachDialect('auth0 SDK v7: database connection username options', (dialect) => {
  let l: ListeningServer;
  let mgmt: ManagementClient;
  let connectionId: string;

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    const rewrite: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const target = l.origin + url.slice(PUBLIC_URL.length);
      return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
    };
    mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: rewrite });
    const page = await mgmt.connections.list({ strategy: ['auth0'] });
    connectionId = page.data[0].id as string;
  });
  afterAll(async () => { await l.close(); });

  it('without requires_username, the options do not carry it and users need no username', async () => {
    const c = await mgmt.connections.get(connectionId);
    expect(c.options).toEqual({ passwordPolicy: 'good', password_complexity_options: { min_length: 8 } });
    const u = await mgmt.users.create({ connection: DB, email: 'before@example.com', password: PASSWORD });
    expect(u.username).toBeUndefined();
  });

  it('PATCH options sets requires_username and validation.username; reads return them', async () => {
    const updated = await mgmt.connections.update(connectionId, { options: { requires_username: true, validation: { username: { min: 3, max: 12 } } } });
    expect(updated).toMatchObject({ id: connectionId, name: DB, strategy: 'auth0' });
    expect(updated.options).toEqual({ passwordPolicy: 'good', password_complexity_options: { min_length: 8 }, requires_username: true, validation: { username: { min: 3, max: 12 } } });
    expect((await mgmt.connections.get(connectionId)).options).toEqual(updated.options);
    expect((await mgmt.connections.list({ name: DB })).data[0].options).toEqual(updated.options);
  });

  it('a user without a username is refused with Auth0\'s message, and nothing is created', async () => {
    const e = await failure(mgmt.users.create({ connection: DB, email: 'nouser@example.com', password: PASSWORD }));
    expect(e).toBeInstanceOf(Management.BadRequestError);
    expect(bodyOf(e)).toEqual(badRequest("Payload validation error: 'Missing required property: username'."));
    expect(await mgmt.users.listUsersByEmail({ email: 'nouser@example.com' })).toEqual([]);
  });

  it('usernames outside validation.username are refused on create and on rename', async () => {
    const short = await failure(mgmt.users.create({ connection: DB, email: 'short@example.com', username: 'ab', password: PASSWORD }));
    expect(bodyOf(short)).toEqual(badRequest(`Payload validation error: 'String is too short (2 chars), minimum 3' ${USERNAME_PROPERTY}`));
    const long = await failure(mgmt.users.create({ connection: DB, email: 'long@example.com', username: 'a'.repeat(13), password: PASSWORD }));
    expect(bodyOf(long)).toEqual(badRequest(`Payload validation error: 'String is too long (13 chars), maximum 12' ${USERNAME_PROPERTY}`));
    expect(await mgmt.users.listUsersByEmail({ email: 'long@example.com' })).toEqual([]);

    const ok = await mgmt.users.create({ connection: DB, email: 'jane@example.com', username: 'Jane_Doe', password: PASSWORD });
    expect(ok.username).toBe('jane_doe');
    const rename = await failure(mgmt.users.update(ok.user_id as string, { username: 'x'.repeat(20) }));
    expect(bodyOf(rename)).toEqual(badRequest(`Payload validation error: 'String is too long (20 chars), maximum 12' ${USERNAME_PROPERTY}`));
    expect((await mgmt.users.get(ok.user_id as string)).username).toBe('jane_doe');
  });

  it('the user logs in with the username (password-realm); a wrong password is refused', async () => {
    const app = await l.mgmt('POST', '/clients', { name: 'Username app', app_type: 'regular_web', grant_types: ['password', REALM], callbacks: ['https://app.example/cb'] });
    expect(app.status).toBe(201);
    const login = (username: string, password: string) => fetch(`${l.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: REALM, realm: DB, username, password, client_id: app.body.client_id, client_secret: app.body.client_secret, scope: 'openid' }),
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    const max = await mgmt.users.create({ connection: DB, email: 'max@example.com', username: 'max_power', password: PASSWORD });
    const good = await login('Max_Power', PASSWORD);
    expect(good.status).toBe(200);
    const idToken = JSON.parse(Buffer.from(good.body.id_token.split('.')[1], 'base64url').toString());
    expect(idToken.sub).toBe(max.user_id);
    expect(await login('max_power', 'Wrong-passw0rd')).toEqual({ status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } });
  });

  it('bad options are refused and change nothing; requires_username: false lifts the requirement', async () => {
    const before = (await mgmt.connections.get(connectionId)).options;
    const inverted = await failure(mgmt.connections.update(connectionId, { options: { validation: { username: { min: 10, max: 5 } } } }));
    expect(bodyOf(inverted)).toEqual(badRequest("Payload validation error: 'validation.username.min (10) is greater than validation.username.max (5)' on property options."));
    for (const options of [{ requires_username: 'yes' }, { passwordPolicy: 'excellent' }, { brute_force_protection: true }, { validation: { username: { min: 0, max: 5 } } }, { validation: { username: { min: 1, max: 129 } } }]) {
      const e = await failure(mgmt.connections.update(connectionId, { options: options as Management.UpdateConnectionOptions }));
      expect(e, JSON.stringify(options)).toBeInstanceOf(Management.BadRequestError);
      expect(bodyOf(e)).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    }
    expect((await mgmt.connections.get(connectionId)).options).toEqual(before);
    expect(await failure(mgmt.connections.update('con_nope', { options: { requires_username: true } }))).toBeInstanceOf(Management.NotFoundError);

    const off = await mgmt.connections.update(connectionId, { options: { requires_username: false } });
    expect(off.options).toEqual({ passwordPolicy: 'good', password_complexity_options: { min_length: 8 }, requires_username: false });
    const u = await mgmt.users.create({ connection: DB, email: 'after@example.com', password: PASSWORD });
    expect(u.username).toBeUndefined();
    // without validation.username the limits are 1–128 again
    expect((await mgmt.users.create({ connection: DB, email: 'longer@example.com', username: 'a'.repeat(40), password: PASSWORD })).username).toBe('a'.repeat(40));
  });

  it('PATCH /connections/{id} needs update:connections', async () => {
    const token = await l.s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: `${PUBLIC_URL}/api/v2/`, scope: 'read:connections' });
    const r = await l.s.api('PATCH', `/connections/${connectionId}`, { options: { requires_username: true } }, { token: token.body.access_token });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ statusCode: 403, error: 'Forbidden', errorCode: 'insufficient_scope' });
    expect((await mgmt.connections.get(connectionId)).options?.requires_username).toBe(false);
  });
});
