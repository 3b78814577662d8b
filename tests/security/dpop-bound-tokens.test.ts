import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { ath, claimsOf, dpopApi, passwordParams, proof, proofKey, publicClient, USERINFO_URL, type ProofKey } from './dpop';

/**
 * Server nonces for public clients (RFC 9449 §8), refresh tokens bound to the public client's key (§5), and
 * DPoP-bound tokens at /userinfo (§7): each refusal named.
 */
const NONCE_CHALLENGE = { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' };

eachDialect('security: DPoP nonces, bound refresh tokens and /userinfo', (dialect) => {
  let s: TestServer;
  let audience: string;
  let key: ProofKey;
  beforeAll(async () => {
    s = await startTessera(dialect);
    audience = await dpopApi(s, { mechanism: 'dpop', required: false });
    key = await proofKey();
  });
  afterAll(async () => { await s.close(); });

  const post = async (params: Record<string, string>, o: { k?: ProofKey; nonce?: string; proof?: boolean } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (o.proof !== false) headers.dpop = await proof(o.k ?? key, { now: s.clock.now(), nonce: o.nonce });
    const r = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers, payload: new URLSearchParams(params).toString() });
    return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
  };
  /** The current nonce, as a client learns it: from the challenge. */
  const nonce = async (c: { client_id: string; email: string }) => (await post(passwordParams(c, audience))).headers['dpop-nonce'] as string;
  /** A public client's DPoP token response (nonce round included). */
  async function login(k: ProofKey = key, scope?: string) {
    const c = await publicClient(s, { refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring', leeway: 0 } });
    const r = await post(passwordParams(c, audience, scope), { k, nonce: await nonce(c) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return { c, r };
  }

  describe('server nonces', () => {
    it('a public client without a nonce gets 400 use_dpop_nonce and a DPoP-Nonce header', async () => {
      const c = await publicClient(s);
      const r = await post(passwordParams(c, audience));
      expect(r.status).toBe(400);
      expect(r.body).toEqual(NONCE_CHALLENGE);
      expect(r.headers['dpop-nonce']).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
      expect(r.headers['cache-control']).toBe('no-store');
    });

    it('refuses a made-up nonce with a fresh challenge', async () => {
      const c = await publicClient(s);
      const r = await post(passwordParams(c, audience), { nonce: 'abc.AAAAAAAAAAAAAAAAAAAAAA' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(NONCE_CHALLENGE);
    });

    it('accepts the nonce for the rest of its period and the next one, then asks again', async () => {
      const c = await publicClient(s);
      const n = await nonce(c);
      expect((await post(passwordParams(c, audience), { nonce: n })).status).toBe(200);
      s.clock.advance(5 * 60);
      expect((await post(passwordParams(c, audience), { nonce: n })).status).toBe(200);
      s.clock.advance(10 * 60);
      expect((await post(passwordParams(c, audience), { nonce: n })).body).toEqual(NONCE_CHALLENGE);
    });

    it('refuses a nonce whose MAC was altered (current window, forged tag)', async () => {
      const c = await publicClient(s);
      const n = await nonce(c);
      const forged = `${n.slice(0, -1)}${n.endsWith('A') ? 'B' : 'A'}`;
      expect((await post(passwordParams(c, audience), { nonce: forged })).body).toEqual(NONCE_CHALLENGE);
    });

    it('a successful response carries a fresh DPoP-Nonce', async () => {
      const { r } = await login();
      expect(r.headers['dpop-nonce']).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    });
  });

  describe('refresh tokens of public clients are bound to the proof key', () => {
    it('refreshing with a proof from the same key works and the new access token stays bound', async () => {
      const { c, r } = await login();
      const next = await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: r.body.refresh_token }, { nonce: r.headers['dpop-nonce'] as string });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.token_type).toBe('DPoP');
      expect(claimsOf(next.body.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.jwk, 'sha256') });
      // the rotated successor is bound too
      const other = await proofKey();
      const stolen = await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: next.body.refresh_token }, { k: other, nonce: next.headers['dpop-nonce'] as string });
      expect(stolen.body.error).toBe('invalid_dpop_proof');
    });

    it('refuses a refresh with a proof from another key (wrong key on refresh)', async () => {
      const { c, r } = await login();
      const other = await proofKey();
      const res = await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: r.body.refresh_token }, { k: other, nonce: r.headers['dpop-nonce'] as string });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'Invalid DPoP proof: the key is not the one the refresh token is bound to' });
    });

    it('refuses a refresh without a proof', async () => {
      const { c, r } = await login();
      const res = await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: r.body.refresh_token }, { proof: false });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'DPoP proof required: the refresh token is bound to a DPoP key' });
    });

    it('a refused refresh does not spend the rotating token', async () => {
      const { c, r } = await login();
      await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: r.body.refresh_token }, { proof: false });
      const ok = await post({ grant_type: 'refresh_token', client_id: c.client_id, refresh_token: r.body.refresh_token }, { nonce: r.headers['dpop-nonce'] as string });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    });
  });

  describe('/userinfo', () => {
    const userinfo = async (authorization: string, dpop?: string[], method: 'GET' | 'POST' = 'GET') => {
      const r = await s.t.app.inject({ method, url: '/userinfo', headers: { authorization, ...(dpop ? { dpop } : {}) } });
      return { status: r.statusCode, body: r.body, headers: r.headers };
    };
    const bound = async () => (await login(key, 'openid profile email')).r.body.access_token as string;

    it('accepts Authorization: DPoP with a proof carrying ath', async () => {
      const at = await bound();
      const r = await userinfo(`DPoP ${at}`, [await proof(key, { now: s.clock.now(), htm: 'GET', htu: USERINFO_URL, ath: ath(at) })]);
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body).sub).toBe(claimsOf(at).sub);
    });

    it('refuses a DPoP-bound token sent as Bearer', async () => {
      const at = await bound();
      const r = await userinfo(`Bearer ${at}`);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('DPoP error="invalid_token", algs="ES256 ES384 RS256 PS256 EdDSA"');
    });

    it('refuses a proof without ath', async () => {
      const at = await bound();
      const r = await userinfo(`DPoP ${at}`, [await proof(key, { now: s.clock.now(), htm: 'GET', htu: USERINFO_URL })]);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('DPoP error="invalid_dpop_proof", algs="ES256 ES384 RS256 PS256 EdDSA"');
    });

    it('refuses a proof from another key', async () => {
      const at = await bound();
      const r = await userinfo(`DPoP ${at}`, [await proof(await proofKey(), { now: s.clock.now(), htm: 'GET', htu: USERINFO_URL, ath: ath(at) })]);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toContain('DPoP error="invalid_dpop_proof"');
    });

    it('refuses a proof made for the token endpoint (wrong htm and htu)', async () => {
      const at = await bound();
      const r = await userinfo(`DPoP ${at}`, [await proof(key, { now: s.clock.now(), ath: ath(at) })]);
      expect(r.status).toBe(401);
    });

    it('refuses a replayed proof', async () => {
      const at = await bound();
      const p = await proof(key, { now: s.clock.now(), htm: 'GET', htu: USERINFO_URL, ath: ath(at) });
      expect((await userinfo(`DPoP ${at}`, [p])).status).toBe(200);
      expect((await userinfo(`DPoP ${at}`, [p])).status).toBe(401);
    });

    it('refuses the DPoP scheme without a proof', async () => {
      const at = await bound();
      expect((await userinfo(`DPoP ${at}`)).status).toBe(401);
    });
  });
});
