import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, UniqueViolation, type ClientGrant, type ResourceServer } from '@tessera/core';
import { openStore, type OpenedStore } from '@tessera/store';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/databases';

const pgReady = await postgresAvailable();

const api = (n: number, extra: Partial<ResourceServer> = {}): ResourceServer => ({
  id: `rs${String(n).padStart(22, '0')}`, identifier: `https://api-${n}.example.com`, signing_alg: 'RS256',
  allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: false,
  subject_type_authorization: {}, token_lifetime: 86400, token_lifetime_for_web: 7200,
  scopes: [{ value: 'read:x' }], ...extra,
});
const client = (id: string) => ({
  client_id: id, name: `client ${id}`, client_secret: `secret-${id}-0123456789`, grant_types: ['client_credentials'],
  is_first_party: true, oidc_conformant: false, is_token_endpoint_ip_header_trusted: false, sso_disabled: false,
  cross_origin_authentication: false, custom_login_page_on: true, jwt_configuration: {}, refresh_token: {},
});
const grant = (id: string, clientId: string, audience: string): ClientGrant => ({ id, client_id: clientId, audience, subject_type: 'client', scope: ['read:x'] });

/** One storage contract, run against both dialects: the repositories must behave identically. */
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !pgReady)(`storage contract [${dialect}]`, () => {
    let db: TestDatabase;
    let store: OpenedStore;
    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      store = openStore(db.url, createSecretBox([randomBytes(32)]));
      await store.migrate();
    });
    afterAll(async () => { await store.close(); await db.drop(); });

    it('migrates idempotently', async () => {
      expect(await store.migrate()).toEqual([]);
    });

    it('round-trips a resource server, by id and by identifier, with the HS256 secret decrypted', async () => {
      const rs = api(1, { signing_alg: 'HS256', signing_secret: 'a-very-secret-hs256-key-material' });
      await store.write((tx) => tx.resourceServers.insert(rs));
      expect(await store.resourceServers.findById(rs.id)).toEqual(rs);
      expect(await store.resourceServers.findByIdentifier(rs.identifier)).toEqual(rs);
      expect(await store.resourceServers.findById('nope')).toBeUndefined();
    });

    it('maps a duplicate identifier to UniqueViolation', async () => {
      await expect(store.write((tx) => tx.resourceServers.insert({ ...api(1), id: 'other-id-000000000000000' }))).rejects.toBeInstanceOf(UniqueViolation);
    });

    it('rolls back a failed write entirely and leaves the generation alone', async () => {
      const before = await store.generation();
      await expect(store.write(async (tx) => {
        await tx.resourceServers.insert(api(2));
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await store.resourceServers.findById(api(2).id)).toBeUndefined();
      expect(await store.generation()).toBe(before);
    });

    it('advances the change generation on every committed write', async () => {
      const before = await store.generation();
      await store.write((tx) => tx.resourceServers.insert(api(3)));
      expect(await store.generation()).toBe(before + 1);
    });

    it('pages with an exact total, an identifiers filter and an empty page past the end', async () => {
      for (let n = 10; n < 15; n++) await store.write((tx) => tx.resourceServers.insert(api(n)));
      const all = await store.resourceServers.list({ offset: 0 });
      expect(all.total).toBe(all.items.length);
      const page = await store.resourceServers.list({ offset: 2, limit: 2 });
      expect(page.items.map((r) => r.id)).toEqual(all.items.slice(2, 4).map((r) => r.id));
      expect(page.total).toBe(all.total);
      expect((await store.resourceServers.list({ offset: 1000, limit: 50 })).items).toEqual([]);
      const filtered = await store.resourceServers.list({ offset: 0, identifiers: [api(11).identifier, api(13).identifier] });
      expect(filtered.items.map((r) => r.identifier)).toEqual([api(11).identifier, api(13).identifier]);
      expect(filtered.total).toBe(2);
    });

    it('finds grants by (client, audience, subject type) and pages them by checkpoint', async () => {
      await store.write(async (tx) => {
        await tx.clients.insert(client('c1'));
        for (let n = 10; n < 15; n++) await tx.clientGrants.insert(grant(`cgr_${n}`, 'c1', api(n).identifier));
      });
      expect(await store.clientGrants.findFor('c1', api(12).identifier, 'client')).toMatchObject({ id: 'cgr_12' });
      expect(await store.clientGrants.findFor('c1', api(12).identifier, 'user')).toBeUndefined();
      const seen: string[] = [];
      let from: string | undefined;
      for (let i = 0; i < 10; i++) {
        const p = await store.clientGrants.listFrom({ clientId: 'c1', from, take: 2 });
        seen.push(...p.items.map((g) => g.id));
        if (!p.next) break;
        from = p.next;
      }
      expect(seen).toEqual(['cgr_10', 'cgr_11', 'cgr_12', 'cgr_13', 'cgr_14']);
    });

    it('refuses a second grant for the same client, audience and subject type', async () => {
      await expect(store.write((tx) => tx.clientGrants.insert(grant('cgr_dup', 'c1', api(10).identifier)))).rejects.toBeInstanceOf(UniqueViolation);
    });

    it('cascades: deleting an API or a client removes their grants', async () => {
      await store.write((tx) => tx.resourceServers.delete(api(10).id));
      expect(await store.clientGrants.findById('cgr_10')).toBeUndefined();
      expect(await store.clientGrants.findById('cgr_11')).toBeDefined();
      await store.write((tx) => tx.clients.delete('c1'));
      expect((await store.clientGrants.list({ offset: 0, clientId: 'c1' })).total).toBe(0);
    });

    it('records a used client assertion once until it expires, then lets the key be taken again', async () => {
      const { usedAssertions } = store;
      expect(await usedAssertions.claim('k1', 2_000, 1_000)).toBe(true);
      expect(await usedAssertions.claim('k1', 3_000, 1_500)).toBe(false);
      expect(await usedAssertions.claim('k2', 2_000, 1_500)).toBe(true);
      expect(await usedAssertions.claim('k1', 4_000, 2_500)).toBe(true);
      expect(await usedAssertions.claim('k1', 5_000, 3_000)).toBe(false);
      await usedAssertions.deleteExpired(4_500);
      expect(await usedAssertions.claim('k2', 6_000, 4_500)).toBe(true);
    });

    it('keeps meta values and signing keys', async () => {
      await store.write((tx) => tx.meta.set('k', 'v1'));
      await store.write((tx) => tx.meta.set('k', 'v2'));
      expect(await store.meta.get('k')).toBe('v2');
      const key = { kid: 'kid1', state: 'next' as const, privateKeyPkcs8: '-----BEGIN PRIVATE KEY-----\nxyz\n-----END PRIVATE KEY-----\n', publicJwk: { kty: 'RSA' as const, n: 'n', e: 'AQAB' }, cert: 'cert', fingerprint: 'AA', thumbprint: 'aa', createdAt: new Date().toISOString() };
      await store.write((tx) => tx.signingKeys.insert(key));
      await store.write((tx) => tx.signingKeys.replace({ ...key, state: 'current', currentSince: key.createdAt }));
      expect(await store.signingKeys.list()).toEqual([{ ...key, state: 'current', currentSince: key.createdAt }]);
    });
  });
}
