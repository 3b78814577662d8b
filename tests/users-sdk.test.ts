import { ManagementClient, Management, ManagementError } from 'auth0';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startListening, type ListeningServer } from './helpers/listening';
import { ADMIN_ID, ADMIN_SECRET, eachDialect, PUBLIC_URL } from './helpers/tessera';

/**
 * The auth0 SDK v7's typed `users` manager against Tessera over a real socket: create with a username and
 * a Terraform-style id, get/update/delete by that id, search with q/sort/fields, users-by-email, and the
 * SDK's own error classes for Tessera's refusals.
 */
function rewritingFetch(from: string, to: string, seen: string[]): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    seen.push(`${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${url.slice(from.length)}`);
    const target = to + url.slice(from.length);
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}

const DB = 'Username-Password-Authentication';
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

eachDialect('auth0 SDK v7: users manager', (dialect) => {
  let l: ListeningServer;
  let mgmt: ManagementClient;
  const seen: string[] = [];

  beforeAll(async () => {
    l = await startListening(dialect, { publicUrl: PUBLIC_URL });
    mgmt = new ManagementClient({ domain: new URL(PUBLIC_URL).host, clientId: ADMIN_ID, clientSecret: ADMIN_SECRET, fetch: rewritingFetch(PUBLIC_URL, l.origin, seen) });
  });
  afterAll(async () => { await l.close(); });

  it('create with username and user_id, then get, update, search, users-by-email and delete by that id', async () => {
    const created = await mgmt.users.create({
      connection: DB, user_id: '12345', username: 'Unique_Username', email: 'test@test.com', email_verified: true,
      password: 'passpass$12$12', name: 'Firstname Lastname', nickname: 'some.nickname', picture: 'https://www.example.com/a-valid-picture-url.jpg',
      app_metadata: { plan: 'gold' },
    });
    expect(created).toMatchObject({ user_id: 'auth0|12345', username: 'unique_username', email: 'test@test.com', identities: [{ connection: DB, user_id: '12345', provider: 'auth0', isSocial: false }] });
    expect(seen).toContain('POST /api/v2/users');

    const got = await mgmt.users.get('auth0|12345', { fields: 'user_id,username,email', include_fields: true });
    expect(got).toEqual({ user_id: 'auth0|12345', username: 'unique_username', email: 'test@test.com' });
    expect(seen).toContain('GET /api/v2/users/auth0%7C12345?fields=user_id%2Cusername%2Cemail&include_fields=true');

    const updated = await mgmt.users.update('auth0|12345', { username: 'renamed', user_metadata: { lang: 'fr' } });
    expect(updated).toMatchObject({ user_id: 'auth0|12345', username: 'renamed', user_metadata: { lang: 'fr' } });

    await mgmt.users.create({ connection: DB, email: 'other@test.com', password: 'passpass$12$12', name: 'Another Person', app_metadata: { plan: 'gold' } });
    const page = await mgmt.users.list({ q: 'app_metadata.plan:"gold" AND (username:renamed OR name:anoth*)', search_engine: 'v3', sort: 'email:-1', fields: 'email', include_fields: true, include_totals: true, per_page: 10 });
    expect(page.data).toEqual([{ email: 'test@test.com' }, { email: 'other@test.com' }]);
    expect(page.response).toMatchObject({ total: 2, start: 0, limit: 10 });

    expect((await mgmt.users.listUsersByEmail({ email: 'TEST@test.com' })).map((u) => u.user_id)).toEqual(['auth0|12345']);
    expect(await mgmt.users.listUsersByEmail({ email: 'nobody@test.com' })).toEqual([]);

    await mgmt.users.delete('auth0|12345');
    expect(await failure(mgmt.users.get('auth0|12345'))).toBeInstanceOf(Management.NotFoundError);
  });

  it("Tessera's refusals arrive as the SDK's typed errors with Auth0's bodies", async () => {
    await mgmt.users.create({ connection: DB, username: 'taken', email: 'taken@test.com', password: 'passpass$12$12' });
    const dup = await failure(mgmt.users.create({ connection: DB, username: 'TAKEN', email: 'free@test.com', password: 'passpass$12$12' }));
    expect(dup).toBeInstanceOf(Management.ConflictError);
    expect((dup as Management.ConflictError).body).toEqual({ statusCode: 409, error: 'Conflict', message: 'The username provided is in use already.', errorCode: 'auth0_idp_error' });

    const badName = await failure(mgmt.users.create({ connection: DB, username: 'no spaces', email: 'x@test.com', password: 'passpass$12$12' }));
    expect(badName).toBeInstanceOf(Management.BadRequestError);

    const badId = await failure(mgmt.users.create({ connection: DB, user_id: 'google-oauth2|1', email: 'y@test.com', password: 'passpass$12$12' }));
    expect(badId).toBeInstanceOf(Management.BadRequestError);

    const badQuery = await failure(mgmt.users.list({ q: 'name:[a TO c]', search_engine: 'v3' }));
    expect(badQuery).toBeInstanceOf(Management.BadRequestError);
    expect((badQuery as Management.BadRequestError).body).toMatchObject({ statusCode: 400, errorCode: 'invalid_query_string' });

    const v2 = await failure(mgmt.users.list({ q: 'email:"taken@test.com"', search_engine: 'v2' }));
    expect(v2).toBeInstanceOf(Management.BadRequestError);

    expect(await failure(mgmt.users.update('auth0|nobody', { name: 'x' }))).toBeInstanceOf(Management.NotFoundError);
    // the SDK declares no 404 for users.delete, so it surfaces as the base error class with the status
    const gone = await failure(mgmt.users.delete('auth0|nobody'));
    expect(gone).toBeInstanceOf(ManagementError);
    expect((gone as ManagementError).statusCode).toBe(404);
  });
});
