import { MANAGEMENT_SCOPES } from '@tessera/core';
import { expect } from 'vitest';
import { createM2mClient } from '../helpers/management';
import { MGMT_AUDIENCE, type TestServer } from '../helpers/tessera';

export const VOCABULARY = MANAGEMENT_SCOPES.map((s) => s.value);

/**
 * Tokens for exact scope sets, minted the way callers get them: one M2M client with an all-scopes grant on
 * the Management API asks /oauth/token for just the scopes it wants (one token per distinct set).
 */
export class ScopeTokens {
  private cache = new Map<string, Promise<string>>();
  private client?: Promise<{ client_id: string; client_secret: string }>;
  constructor(private readonly s: TestServer) {}

  get(scopes: string[]): Promise<string> {
    const key = [...scopes].sort().join(' ');
    let t = this.cache.get(key);
    if (!t) { t = this.mint(scopes); this.cache.set(key, t); }
    return t;
  }

  /** Every Management scope except `excluded`. */
  allBut(excluded: Iterable<string>): Promise<string> {
    const out = new Set(excluded);
    return this.get(VOCABULARY.filter((v) => !out.has(v)));
  }

  private async mint(scopes: string[]): Promise<string> {
    this.client ??= (async () => {
      const c = await createM2mClient(this.s, 'scope-table');
      const g = await this.s.api('POST', '/client-grants', { client_id: c.client_id, audience: MGMT_AUDIENCE, allow_all_scopes: true });
      expect(g.status).toBe(201);
      return c;
    })();
    const c = await this.client;
    const r = await this.s.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: MGMT_AUDIENCE, scope: scopes.join(' ') });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.scope.split(' ').sort()).toEqual([...scopes].sort());
    return r.body.access_token as string;
  }
}

export const forbidden = (message: string) => ({ statusCode: 403, error: 'Forbidden', message, errorCode: 'insufficient_scope' });

