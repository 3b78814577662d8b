import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createApi, createUser, pkce } from './helpers/flows';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';

const API = 'https://orders.example/';
const OFFLINE_DENIED_API = 'https://no-offline.example/';
const BAD_REFRESH = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
const DAY = 86400;

/**
 * The client `refresh_token` settings, enforced at /oauth/token for a public (SPA) client that logs in with
 * code + PKCE, with an injected clock for every lifetime (no sleeping).
 */
eachDialect('refresh-token settings of a client (rotation, reuse window, lifetimes, defaults)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTessera(dialect);
    await createApi(s, API, { allow_offline_access: true, skip_consent_for_verifiable_first_party_clients: true });
    await createApi(s, OFFLINE_DENIED_API, { allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: true });
    await createUser(s, 'ada@example.com');
  });
  afterAll(async () => { await s.close(); });

  const spa = async (extra: Record<string, unknown> = {}) => {
    const r = await s.api('POST', '/clients', { name: 'Orders SPA', app_type: 'spa', callbacks: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { client_id: string; refresh_token: Record<string, unknown>; token_endpoint_auth_method: string };
  };
  /** Logs in through the hosted pages with code + PKCE (a public client: no secret) and returns the token response. */
  const login = async (clientId: string, audience = API) => {
    const { verifier, challenge } = pkce();
    const { res } = await authorize(s, new Browser(s), {
      response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, audience, scope: 'openid offline_access read:orders',
      code_challenge: challenge, code_challenge_method: 'S256', state: 'st',
    }, { email: 'ada@example.com' });
    const { code } = callbackParams(res.location);
    const t = await s.token({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: CALLBACK });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    return t.body as { access_token: string; refresh_token?: string; scope: string };
  };
  const refresh = (clientId: string, token: string) => s.token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token });

  describe('defaults (RFC 9700 §4.14: public clients rotate and expire)', () => {
    it('a new SPA or native client is public with rotating, expiring refresh tokens; a web app keeps non-rotating, non-expiring ones', async () => {
      const c = await spa();
      expect(c.token_endpoint_auth_method).toBe('none');
      const rotating = {
        rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 2592000,
        infinite_token_lifetime: false, idle_token_lifetime: 1296000, infinite_idle_token_lifetime: false,
      };
      expect(c.refresh_token).toEqual(rotating);
      const native = await s.api('POST', '/clients', { name: 'Orders iOS', app_type: 'native' });
      expect(native.body.refresh_token).toEqual(rotating);
      const web = await s.api('POST', '/clients', { name: 'Orders Web', app_type: 'regular_web' });
      expect(web.body.refresh_token).toEqual({
        rotation_type: 'non-rotating', expiration_type: 'non-expiring', leeway: 0, token_lifetime: 31557600,
        infinite_token_lifetime: true, infinite_idle_token_lifetime: true, idle_token_lifetime: 2592000,
      });
    });

    it('the default SPA refresh token rotates and dies 15 idle days after its last use, 30 days after the login at most', async () => {
      const c = await spa();
      const t = await login(c.client_id);
      expect(t.scope).toBe('openid offline_access read:orders');
      let current = t.refresh_token as string;
      const start = s.clock.ms;
      try {
        // used every 14 days: each use returns a successor with a fresh idle window
        for (let i = 0; i < 2; i++) {
          s.clock.advance(14 * DAY);
          const r = await refresh(c.client_id, current);
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          expect(r.body.refresh_token).not.toBe(current);
          current = r.body.refresh_token;
        }
        // day 28 + 3 = 31: past the family's 30-day absolute lifetime although only 3 days idle
        s.clock.advance(3 * DAY);
        const late = await refresh(c.client_id, current);
        expect(late.status).toBe(403);
        expect(late.body).toEqual(BAD_REFRESH);
      } finally { s.clock.ms = start; }
    });

    it('an idle refresh token expires after idle_token_lifetime without use', async () => {
      const c = await spa({ refresh_token: { idle_token_lifetime: 3600, token_lifetime: DAY } });
      const t = await login(c.client_id);
      const start = s.clock.ms;
      try {
        s.clock.advance(3599);
        const ok = await refresh(c.client_id, t.refresh_token as string);
        expect(ok.status).toBe(200);
        s.clock.advance(3600);
        const idle = await refresh(c.client_id, ok.body.refresh_token);
        expect(idle.status).toBe(403);
        expect(idle.body).toEqual(BAD_REFRESH);
      } finally { s.clock.ms = start; }
    });
  });

  describe('rotation and reuse detection', () => {
    it('a rotated token used again revokes the whole family: the newest successor stops working too', async () => {
      const c = await spa();
      const t = await login(c.client_id);
      const second = await refresh(c.client_id, t.refresh_token as string);
      const third = await refresh(c.client_id, second.body.refresh_token);
      expect(third.status).toBe(200);
      const replay = await refresh(c.client_id, t.refresh_token as string);
      expect(replay.status).toBe(403);
      expect(replay.body).toEqual(BAD_REFRESH);
      const newest = await refresh(c.client_id, third.body.refresh_token);
      expect(newest.status).toBe(403);
      expect(newest.body).toEqual(BAD_REFRESH);
    });

    it('leeway: a rotated token may be used again within the window (a successor of the same family), not after it', async () => {
      const c = await spa({ refresh_token: { leeway: 30 } });
      const t = await login(c.client_id);
      const start = s.clock.ms;
      try {
        const first = await refresh(c.client_id, t.refresh_token as string);
        s.clock.advance(20);
        const retry = await refresh(c.client_id, t.refresh_token as string); // e.g. two tabs refreshing at once
        expect(retry.status).toBe(200);
        expect(retry.body.refresh_token).not.toBe(first.body.refresh_token);
        s.clock.advance(11);
        const late = await refresh(c.client_id, t.refresh_token as string);
        expect(late.status).toBe(403);
        // reuse after the window revoked the family, including both successors
        expect((await refresh(c.client_id, first.body.refresh_token)).status).toBe(403);
        expect((await refresh(c.client_id, retry.body.refresh_token)).status).toBe(403);
      } finally { s.clock.ms = start; }
    });

    it('non-rotating: the same token works repeatedly and no successor is returned; non-expiring ignores the lifetimes', async () => {
      const c = await spa({ refresh_token: { rotation_type: 'non-rotating', expiration_type: 'non-expiring', token_lifetime: 60, idle_token_lifetime: 60 } });
      const t = await login(c.client_id);
      const start = s.clock.ms;
      try {
        for (let i = 0; i < 3; i++) {
          s.clock.advance(400 * DAY);
          const r = await refresh(c.client_id, t.refresh_token as string);
          expect(r.status).toBe(200);
          expect(r.body.refresh_token).toBeUndefined();
          expect(decodeJwt(r.body.access_token).gty).toBe('refresh_token');
        }
      } finally { s.clock.ms = start; }
    });

    it('non-rotating and expiring: each use extends the idle window, the absolute lifetime still ends it', async () => {
      const c = await spa({ refresh_token: { rotation_type: 'non-rotating', token_lifetime: 10_000, idle_token_lifetime: 4000 } });
      const t = await login(c.client_id);
      const start = s.clock.ms;
      try {
        s.clock.advance(3000);
        expect((await refresh(c.client_id, t.refresh_token as string)).status).toBe(200);
        s.clock.advance(3000); // 6000 s after the login, 3000 s after the last use
        expect((await refresh(c.client_id, t.refresh_token as string)).status).toBe(200);
        s.clock.advance(3000);
        expect((await refresh(c.client_id, t.refresh_token as string)).status).toBe(200);
        s.clock.advance(1001); // 10,001 s: past token_lifetime
        expect((await refresh(c.client_id, t.refresh_token as string)).body).toEqual(BAD_REFRESH);
      } finally { s.clock.ms = start; }
    });

    it('infinite_token_lifetime and infinite_idle_token_lifetime switch the two limits off', async () => {
      const c = await spa({ refresh_token: { token_lifetime: 100, idle_token_lifetime: 50, infinite_token_lifetime: true, infinite_idle_token_lifetime: true } });
      const t = await login(c.client_id);
      const start = s.clock.ms;
      try {
        s.clock.advance(365 * DAY);
        const r = await refresh(c.client_id, t.refresh_token as string);
        expect(r.status).toBe(200);
        expect(r.body.refresh_token).toBeDefined();
      } finally { s.clock.ms = start; }
    });
  });

  describe('offline_access and the Management API', () => {
    it('no refresh token (and no offline_access scope) when the API does not allow offline access', async () => {
      const c = await spa();
      const t = await login(c.client_id, OFFLINE_DENIED_API);
      expect(t.refresh_token).toBeUndefined();
      expect(t.scope).toBe('openid read:orders');
    });

    it('PATCH merges refresh_token settings; bad values are refused with nothing changed', async () => {
      const c = await spa();
      const merged = await s.api('PATCH', `/clients/${c.client_id}`, { refresh_token: { leeway: 10 } });
      expect(merged.status).toBe(200);
      expect(merged.body.refresh_token).toMatchObject({ rotation_type: 'rotating', leeway: 10, idle_token_lifetime: 1296000 });
      const refusals: Array<[unknown, RegExp]> = [
        [{ rotation_type: 'sometimes' }, /rotation_type/],
        [{ expiration_type: 'never' }, /expiration_type/],
        [{ leeway: -1 }, /leeway/],
        [{ token_lifetime: 0 }, /token_lifetime/],
        [{ idle_token_lifetime: 1.5 }, /idle_token_lifetime/],
        [{ infinite_token_lifetime: 'yes' }, /infinite_token_lifetime/],
        [{ rotation: 'rotating' }, /rotation/],
        [{ token_lifetime: 3600, idle_token_lifetime: 7200 }, /idle_token_lifetime \(7200\) must not be greater than token_lifetime \(3600\)/],
      ];
      for (const [body, message] of refusals) {
        const r = await s.api('PATCH', `/clients/${c.client_id}`, { refresh_token: body });
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.message).toMatch(message);
      }
      expect((await s.api('GET', `/clients/${c.client_id}`)).body.refresh_token).toEqual(merged.body.refresh_token);
    });
  });
});
