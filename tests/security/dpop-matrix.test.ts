import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, Browser, CALLBACK, callbackParams, createUser, createWebApp } from '../helpers/flows';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { claimsOf, dpopApi, m2m, passwordParams, proof, proofKey, publicClient, type ProofKey } from './dpop';

/**
 * Contract §7.9's issuance matrix, row by row: client `require_proof_of_possession` × proof sent × the API's
 * policy (none, allowed, required, and required only for public clients). Confidential rows use
 * client_credentials; the public rows use the password grant (with the server nonce public clients need).
 */
type Policy = 'none' | 'allowed' | 'required' | 'required_for_public';
type Outcome = 'bearer' | 'bound' | 'client_requires' | 'api_requires' | 'api_refuses_dpop' | 'api_has_no_policy';

const POLICIES: Record<Policy, Record<string, unknown> | undefined> = {
  none: undefined,
  allowed: { mechanism: 'dpop', required: false },
  required: { mechanism: 'dpop', required: true },
  required_for_public: { mechanism: 'dpop', required: true, required_for: 'public_clients' },
};

// Contract §7.9, one row per (client requires, proof sent, API policy), with the outcome for a confidential client
// and for a public one: they differ only where `required_for: public_clients` makes the policy "required".
//                        client requires, proof, policy,               confidential,        public
const MATRIX: Array<[boolean, boolean, Policy, Outcome, Outcome]> = [
  [false, false, 'none', 'bearer', 'bearer'],
  [false, false, 'allowed', 'bearer', 'bearer'],
  [false, false, 'required', 'api_requires', 'api_requires'],
  [false, false, 'required_for_public', 'bearer', 'api_requires'],
  [false, true, 'none', 'bearer', 'bearer'],
  [false, true, 'allowed', 'bound', 'bound'],
  [false, true, 'required', 'bound', 'bound'],
  [false, true, 'required_for_public', 'bound', 'bound'],
  [true, false, 'none', 'api_has_no_policy', 'api_has_no_policy'],
  [true, false, 'allowed', 'client_requires', 'client_requires'],
  [true, false, 'required', 'client_requires', 'client_requires'],
  [true, false, 'required_for_public', 'client_requires', 'client_requires'],
  [true, true, 'none', 'api_refuses_dpop', 'api_refuses_dpop'],
  [true, true, 'allowed', 'bound', 'bound'],
  [true, true, 'required', 'bound', 'bound'],
  [true, true, 'required_for_public', 'bound', 'bound'],
];
const CONFIDENTIAL = MATRIX.map(([r, p, pol, conf]): [boolean, boolean, Policy, Outcome] => [r, p, pol, conf]);
const PUBLIC = MATRIX.map(([r, p, pol, , pub]): [boolean, boolean, Policy, Outcome] => [r, p, pol, pub]);

const label = ([req, sent, policy, outcome]: [boolean, boolean, Policy, Outcome]) =>
  `client requires PoP: ${req ? 'yes' : 'no'}, proof: ${sent ? 'yes' : 'no'}, API policy: ${policy} → ${outcome}`;

eachDialect('security: DPoP issuance matrix (contract §7.9)', (dialect) => {
  let s: TestServer;
  let key: ProofKey;
  let jkt: string;
  const apis = {} as Record<Policy, string>;
  beforeAll(async () => {
    s = await startTessera(dialect);
    key = await proofKey();
    jkt = await calculateJwkThumbprint(key.jwk, 'sha256');
    for (const p of Object.keys(POLICIES) as Policy[]) apis[p] = await dpopApi(s, POLICIES[p]);
  });
  afterAll(async () => { await s.close(); });

  const post = async (params: Record<string, string>, nonce?: string, sendProof = true) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (sendProof) headers.dpop = await proof(key, { now: s.clock.now(), nonce });
    const r = await s.t.app.inject({ method: 'POST', url: '/oauth/token', headers, payload: new URLSearchParams(params).toString() });
    return { status: r.statusCode, body: JSON.parse(r.body), headers: r.headers };
  };

  function expectOutcome(r: { status: number; body: any }, outcome: Outcome, audience: string): void {
    const refusal = (description: string) => { expect(r.status).toBe(400); expect(r.body).toEqual({ error: 'invalid_request', error_description: description }); };
    switch (outcome) {
      case 'bearer':
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.token_type).toBe('Bearer');
        expect(claimsOf(r.body.access_token).cnf).toBeUndefined();
        return;
      case 'bound':
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.token_type).toBe('DPoP');
        expect(claimsOf(r.body.access_token).cnf).toEqual({ jkt });
        return;
      case 'client_requires': return refusal('DPoP proof required: the client requires proof of possession (require_proof_of_possession)');
      case 'api_requires': return refusal(`DPoP proof required: the API "${audience}" requires proof of possession`);
      case 'api_refuses_dpop': return refusal(`The client requires proof of possession but the API "${audience}" does not accept DPoP-bound tokens`);
      case 'api_has_no_policy': return refusal(`The client requires proof of possession but the API "${audience}" has no proof_of_possession policy (it accepts neither DPoP- nor certificate-bound tokens)`);
    }
  }

  describe('confidential client (client_credentials)', () => {
    it.each(CONFIDENTIAL.map((row) => [label(row), row] as const))('%s', async (_l, [requires, sent, policy, outcome]) => {
      const audience = apis[policy];
      const c = await m2m(s, audience, requires ? { require_proof_of_possession: true } : {});
      const r = await post({ grant_type: 'client_credentials', ...c, audience }, undefined, sent);
      expectOutcome(r, outcome, audience);
    });
  });

  describe('public client (password grant, with the server nonce)', () => {
    it.each(PUBLIC.map((row) => [label(row), row] as const))('%s', async (_l, [requires, sent, policy, outcome]) => {
      const audience = apis[policy];
      const c = await publicClient(s, requires ? { require_proof_of_possession: true } : {});
      let r = await post(passwordParams(c, audience), undefined, sent);
      if (sent) {
        expect(r.status).toBe(400);
        expect(r.body.error).toBe('use_dpop_nonce');
        r = await post(passwordParams(c, audience), r.headers['dpop-nonce'] as string, true);
      }
      expectOutcome(r, outcome, audience);
    });
  });

  describe('front channel (/authorize response_type=token): no proof can be sent there', () => {
    const implicit = async (policy: Policy, clientExtra: Record<string, unknown> = {}) => {
      const web = await createWebApp(s, clientExtra);
      const email = `implicit-${Math.random().toString(36).slice(2)}@example.com`;
      await createUser(s, email);
      const { res } = await authorize(s, new Browser(s), {
        response_type: 'token', client_id: web.clientId, redirect_uri: CALLBACK, audience: apis[policy], scope: 'read:data', state: 'st',
      }, { email });
      expect(res.status).toBe(302);
      return callbackParams(res.location);
    };

    it('an API that allows DPoP gets a Bearer token', async () => {
      const p = await implicit('allowed');
      expect(p.token_type).toBe('Bearer');
      expect(claimsOf(p.access_token).cnf).toBeUndefined();
    });

    it('an API that requires DPoP is refused in the redirect, naming the rule', async () => {
      const p = await implicit('required');
      expect(p.access_token).toBeUndefined();
      expect(p.error).toBe('invalid_request');
      expect(p.error_description).toBe(`DPoP proof required: the API "${apis.required}" requires proof of possession`);
    });

    it('a client that requires proof of possession is refused in the redirect', async () => {
      const p = await implicit('allowed', { require_proof_of_possession: true });
      expect(p.access_token).toBeUndefined();
      expect(p.error_description).toBe('DPoP proof required: the client requires proof of possession (require_proof_of_possession)');
    });
  });
});
