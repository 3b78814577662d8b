import { loadConfig } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { dpopApi, m2m, passwordParams, proof, proofKey, publicClient, type ProofKey } from './dpop';

/** TESSERA_DPOP_NONCE: which clients must put a server nonce in their proofs (default: public clients). */
const NONCE_CHALLENGE = { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' };

describe('TESSERA_DPOP_NONCE configuration', () => {
  it('refuses an unknown value, naming the variable', () => {
    expect(() => loadConfig({ TESSERA_DATABASE_URL: 'sqlite::memory:', TESSERA_DPOP_NONCE: 'sometimes' }))
      .toThrow('TESSERA_DPOP_NONCE: expected public_clients, all_clients or off, got "sometimes"');
  });

  it('defaults to public_clients', () => {
    expect(loadConfig({ TESSERA_DATABASE_URL: 'sqlite::memory:' }).dpopNonce).toBe('public_clients');
  });
});

eachDialect('security: DPoP nonce policy from TESSERA_DPOP_NONCE', (dialect) => {
  let all: TestServer;
  let off: TestServer;
  let key: ProofKey;
  beforeAll(async () => {
    [all, off] = await Promise.all([
      startTessera(dialect, { env: { TESSERA_DPOP_NONCE: 'all_clients' } }),
      startTessera(dialect, { env: { TESSERA_DPOP_NONCE: 'off' } }),
    ]);
    key = await proofKey();
  });
  afterAll(async () => { await Promise.all([all?.close(), off?.close()]); });

  const post = async (s: TestServer, params: Record<string, string>, nonce?: string) => {
    const r = await s.t.app.inject({
      method: 'POST', url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(key, { now: s.clock.now(), nonce }) },
      payload: new URLSearchParams(params).toString(),
    });
    return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
  };

  it('all_clients: a confidential client is challenged too, and succeeds with the nonce', async () => {
    const audience = await dpopApi(all, { mechanism: 'dpop', required: true });
    const params = { grant_type: 'client_credentials', ...(await m2m(all, audience)), audience };
    const first = await post(all, params);
    expect(first.status).toBe(400);
    expect(first.body).toEqual(NONCE_CHALLENGE);
    const second = await post(all, params, first.headers['dpop-nonce'] as string);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.token_type).toBe('DPoP');
  });

  it('off: a public client gets a DPoP token without a nonce', async () => {
    const audience = await dpopApi(off, { mechanism: 'dpop', required: true });
    const r = await post(off, passwordParams(await publicClient(off), audience));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.token_type).toBe('DPoP');
  });

  it('off: a nonce that is present but not one of ours is still challenged', async () => {
    const audience = await dpopApi(off, { mechanism: 'dpop', required: false });
    const r = await post(off, passwordParams(await publicClient(off), audience), 'made-up');
    expect(r.status).toBe(400);
    expect(r.body).toEqual(NONCE_CHALLENGE);
  });
});
