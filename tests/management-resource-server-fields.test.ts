import { X509Certificate } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, importSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { badRequest, createApi, rsaPublicPem, uniq } from './helpers/management';

const SIGNING_ALG_DESC = 'Algorithm used to sign JWTs. Can be `RS256` (default), `RS512`, `PS256` or `HS256`.';
const LIFETIME_DESC = 'Expiration value (in seconds) for access tokens issued for this API from the token endpoint.';
const NAME_DESC = 'Friendly name for this resource server. Can not contain `<` or `>` characters.';

async function thumbprintOf(pem: string): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(await importSPKI(pem, 'RSA-OAEP-256', { extractable: true })), 'sha256');
}

eachDialect('management: resource server fields (contract §2.3)', (dialect) => {
  let s: TestServer;
  beforeAll(async () => { s = await startTessera(dialect); });
  afterAll(async () => { await s.close(); });

  const patch = (id: string, body: unknown) => s.api('PATCH', `/resource-servers/${id}`, body);
  const get = async (id: string) => (await s.api('GET', `/resource-servers/${id}`)).body;

  it('every optional field is accepted on create, stored and returned', async () => {
    const body = {
      identifier: `https://all-${uniq()}.example.com`,
      name: 'All fields',
      scopes: [{ value: 'read:a', description: 'Read A' }, { value: 'write:a' }],
      signing_alg: 'PS256',
      allow_offline_access: true,
      allow_online_access: true,
      allow_online_access_with_ephemeral_sessions: false,
      skip_consent_for_verifiable_first_party_clients: true,
      token_lifetime: 3600,
      token_lifetime_for_web: 1800,
      token_lifetime_for_anonymous_access_tokens: 300,
      enforce_policies: true,
      token_dialect: 'access_token_authz',
      consent_policy: 'transactional-authorization-with-mfa',
      authorization_details: [{ type: 'payment' }, { type: 'shipping' }],
      proof_of_possession: { mechanism: 'dpop', required: true, required_for: 'all_clients' },
      subject_type_authorization: { user: { policy: 'require_client_grant' }, client: { policy: 'deny_all' } },
      authorization_policy: { policy_id: 'acr_policy_1' },
      verification_location: 'https://verify.example.com',
    };
    const r = await s.api('POST', '/resource-servers', body);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: r.body.id, ...body });
    expect(await get(r.body.id)).toEqual(r.body);
  });

  it('every optional field is accepted on PATCH, stored and returned', async () => {
    const api = await createApi(s);
    const body = {
      name: 'Patched', scopes: [{ value: 'read:b' }], signing_alg: 'RS512', allow_offline_access: true, allow_online_access: false,
      allow_online_access_with_ephemeral_sessions: true, skip_consent_for_verifiable_first_party_clients: true,
      token_lifetime: 1000, token_lifetime_for_web: 900, token_lifetime_for_anonymous_access_tokens: 60, enforce_policies: false,
      token_dialect: 'rfc9068_profile_authz', consent_policy: 'transactional-authorization-with-mfa', authorization_details: [{ type: 'x' }],
      proof_of_possession: { mechanism: 'mtls', required: false }, authorization_policy: { policy_id: 'p' }, verification_location: 'v',
      subject_type_authorization: { user: { policy: 'deny_all' }, client: { policy: 'require_client_grant' } },
    };
    const r = await patch(api.id, body);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: api.id, identifier: api.identifier, ...body });
    expect(await get(api.id)).toEqual(r.body);
  });

  it.each(['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'])('token_dialect %s round-trips', async (d) => {
    const api = await createApi(s, { token_dialect: d, enforce_policies: true });
    expect(api.token_dialect).toBe(d);
    expect((await get(api.id)).token_dialect).toBe(d);
  });

  it.each(['HS256', 'RS256', 'RS512', 'PS256'])('signing_alg %s is accepted', async (alg) => {
    expect((await createApi(s, { signing_alg: alg })).signing_alg).toBe(alg);
  });

  it('signing_alg HS512 → 400 with z-schema wording and the field description', async () => {
    const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, signing_alg: 'HS512' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual(badRequest(`Payload validation error: 'No enum match for: "HS512"' on property signing_alg (${SIGNING_ALG_DESC}).`));
  });

  describe('token lifetimes', () => {
    it('0 and 2592000 are accepted', async () => {
      expect((await createApi(s, { token_lifetime: 2592000 })).token_lifetime).toBe(2592000);
      const zero = await createApi(s, { token_lifetime: 0, token_lifetime_for_web: 0 });
      expect(zero).toMatchObject({ token_lifetime: 0, token_lifetime_for_web: 0 });
    });

    it.each([
      [2592001, `Payload validation error: 'Value 2592001 is greater than maximum 2592000' on property token_lifetime (${LIFETIME_DESC}).`],
      [-1, `Payload validation error: 'Value -1 is less than minimum 0' on property token_lifetime (${LIFETIME_DESC}).`],
      ['3600', `Payload validation error: 'Expected type integer but found type string' on property token_lifetime (${LIFETIME_DESC}).`],
      [1.5, `Payload validation error: 'Expected type integer but found type number' on property token_lifetime (${LIFETIME_DESC}).`],
    ])('token_lifetime %j → 400', async (value, message) => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, token_lifetime: value });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(message));
    });

    it('token_lifetime_for_web greater than token_lifetime → 400 on create and on PATCH', async () => {
      const c = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, token_lifetime: 100, token_lifetime_for_web: 101 });
      expect(c.status).toBe(400);
      expect(c.body).toEqual(badRequest("Payload validation error: 'token_lifetime_for_web (101) cannot be greater than token_lifetime (100)' on property token_lifetime_for_web."));
      const api = await createApi(s);
      const p = await patch(api.id, { token_lifetime_for_web: 86401 });
      expect(p.status).toBe(400);
      expect(p.body).toEqual(badRequest("Payload validation error: 'token_lifetime_for_web (86401) cannot be greater than token_lifetime (86400)' on property token_lifetime_for_web."));
      expect(await get(api.id)).toEqual(api);
    });

    it('token_lifetime_for_web equal to token_lifetime is fine', async () => {
      expect(await createApi(s, { token_lifetime: 500, token_lifetime_for_web: 500 })).toMatchObject({ token_lifetime: 500, token_lifetime_for_web: 500 });
    });
  });

  describe('identifier and name', () => {
    it('identifier of 600 characters is accepted, 601 and empty are refused', async () => {
      const base = `urn:${uniq()}:`;
      const ok = base + 'a'.repeat(600 - base.length);
      expect((await createApi(s, { identifier: ok })).identifier).toBe(ok);
      const long = await s.api('POST', '/resource-servers', { identifier: ok + 'b' });
      expect(long.status).toBe(400);
      expect(long.body.message).toMatch(/^Payload validation error: 'String is too long \(601 chars\), maximum 600' on property identifier/);
      const empty = await s.api('POST', '/resource-servers', { identifier: '' });
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/^Payload validation error: 'String is too short \(0 chars\), minimum 1' on property identifier/);
    });

    it('any string works as identifier (not only URLs)', async () => {
      expect((await createApi(s, { identifier: `my api ${uniq()}` })).identifier).toMatch(/^my api /);
    });

    it.each(['a<b', 'b>c'])('name %s → 400 pattern', async (name) => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, name });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(`Payload validation error: 'String does not match pattern ^[^<>]+$: ${name}' on property name (${NAME_DESC}).`));
    });

    it('name longer than 200 → 400', async () => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, name: 'n'.repeat(201) });
      expect(r.body).toEqual(badRequest(`Payload validation error: 'String is too long (201 chars), maximum 200' on property name (${NAME_DESC}).`));
    });
  });

  describe('scopes', () => {
    it('are replaced whole by PATCH; description omitted when not sent', async () => {
      const api = await createApi(s, { scopes: [{ value: 'a', description: 'A' }, { value: 'b', description: 'B' }] });
      const r = await patch(api.id, { scopes: [{ value: 'c' }] });
      expect(r.body.scopes).toEqual([{ value: 'c' }]);
      expect((await get(api.id)).scopes).toEqual([{ value: 'c' }]);
    });

    it('[] is kept (and returned) after an explicit empty PATCH', async () => {
      const api = await createApi(s, { scopes: [{ value: 'a' }] });
      expect((await patch(api.id, { scopes: [] })).body.scopes).toEqual([]);
      expect((await get(api.id)).scopes).toEqual([]);
    });

    it('PATCH without scopes keeps them', async () => {
      const api = await createApi(s, { scopes: [{ value: 'keep' }] });
      expect((await patch(api.id, { name: 'x' })).body.scopes).toEqual([{ value: 'keep' }]);
    });

    it.each([
      [[{ value: '' }], "Payload validation error: 'String is too short (0 chars), minimum 1' on property scopes[0].value (Value of this scope.)."],
      [[{ value: 'x'.repeat(281) }], "Payload validation error: 'String is too long (281 chars), maximum 280' on property scopes[0].value (Value of this scope.)."],
      [[{ description: 'no value' }], "Payload validation error: 'Missing required property: value' on property scopes[0]."],
      [[{ value: 'a', extra: 1 }], "Payload validation error: 'Additional properties not allowed: extra' on property scopes[0]."],
      [[{ value: 'a', description: 'd'.repeat(501) }], "Payload validation error: 'String is too long (501 chars), maximum 500' on property scopes[0].description (User-friendly description of this scope.)."],
      [[{ value: 'a' }, { value: 'a' }], "Payload validation error: 'Array items are not unique (indexes 0 and 1)' on property scopes."],
      ['read:a', "Payload validation error: 'Expected type array but found type string' on property scopes (List of permissions (scopes) that this API uses.)."],
    ])('bad scopes %j → 400', async (scopes, message) => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, scopes });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(message));
    });
  });

  describe('nullable objects', () => {
    it.each([
      ['token_encryption', () => ({ format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: rsaPublicPem() } })],
      ['proof_of_possession', () => ({ mechanism: 'dpop', required: true })],
      ['authorization_details', () => [{ type: 'payment' }]],
      ['consent_policy', () => 'transactional-authorization-with-mfa'],
      ['authorization_policy', () => ({ policy_id: 'p1' })],
      ['token_lifetime_for_anonymous_access_tokens', () => 120],
    ])('%s: null removes it', async (key, value) => {
      const api = await createApi(s, { [key]: value() });
      expect(api[key]).toBeDefined();
      const r = await patch(api.id, { [key]: null });
      expect(r.status).toBe(200);
      expect(key in r.body).toBe(false);
      expect(key in (await get(api.id))).toBe(false);
    });

    it('consent_policy outside its enum → 400', async () => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, consent_policy: 'always' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest("Payload validation error: 'No enum match for: \"always\"' on property consent_policy (Consent policy for this resource server.)."));
    });

    it('null on a non-nullable field → 400 Expected type', async () => {
      const api = await createApi(s);
      const r = await patch(api.id, { allow_offline_access: null });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe("Payload validation error: 'Expected type boolean but found type null' on property allow_offline_access (Whether refresh tokens can be issued for this API (true) or not (false).).");
    });

    it('proof_of_possession: unknown mechanism and extra keys → 400', async () => {
      const bad = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, proof_of_possession: { mechanism: 'x', required: true } });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toBe("Payload validation error: 'No enum match for: \"x\"' on property proof_of_possession.mechanism (Intended mechanism for Proof-of-Possession.).");
      const extra = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, proof_of_possession: { mechanism: 'dpop', required: true, foo: 1 } });
      expect(extra.body.message).toBe("Payload validation error: 'Additional properties not allowed: foo' on property proof_of_possession.");
    });
  });

  describe('token_encryption', () => {
    it('pem is write-only; thumbprint_sha256 is the RFC 7638 thumbprint of the key', async () => {
      const pem = rsaPublicPem();
      const api = await createApi(s, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { name: 'encryptkey', alg: 'RSA-OAEP-256', kid: 'k1', pem } } });
      const expected = { format: 'compact-nested-jwe', encryption_key: { name: 'encryptkey', alg: 'RSA-OAEP-256', kid: 'k1', thumbprint_sha256: await thumbprintOf(pem) } };
      expect(api.token_encryption).toEqual(expected);
      const again = await get(api.id);
      expect(again.token_encryption).toEqual(expected);
      for (const body of [api, again, (await s.api('GET', '/resource-servers')).body]) {
        expect(JSON.stringify(body)).not.toContain('BEGIN PUBLIC KEY');
        expect(JSON.stringify(body)).not.toContain('"pem"');
      }
    });

    it('a certificate PEM works too, and PATCH replaces the key', async () => {
      const cert = (await s.api('GET', '/keys/signing')).body[0].cert as string;
      expect(cert).toContain('BEGIN CERTIFICATE');
      const api = await createApi(s, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-512', pem: cert } } });
      const certThumb = await calculateJwkThumbprint(await exportJWK(new X509Certificate(cert).publicKey), 'sha256');
      expect(api.token_encryption.encryption_key).toEqual({ alg: 'RSA-OAEP-512', thumbprint_sha256: certThumb });
      const pem2 = rsaPublicPem();
      const r = await patch(api.id, { token_encryption: { format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-384', pem: pem2 } } });
      expect(r.status).toBe(200);
      expect(r.body.token_encryption).toEqual({ format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-384', thumbprint_sha256: await thumbprintOf(pem2) } });
    });

    it.each([
      [{ format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: 'not a pem' } }, "Payload validation error: 'Invalid PEM: expected an RSA public key or certificate' on property token_encryption.encryption_key.pem."],
      [{ format: 'compact-nested-jwe', encryption_key: { alg: 'RSA-OAEP-256' } }, "Payload validation error: 'Missing required property: pem' on property token_encryption.encryption_key."],
      [{ encryption_key: { alg: 'RSA-OAEP-256', pem: 'x' } }, "Payload validation error: 'Missing required property: format' on property token_encryption."],
      [{ format: 'jwe', encryption_key: { alg: 'RSA-OAEP-256', pem: 'x' } }, "Payload validation error: 'No enum match for: \"jwe\"' on property token_encryption.format (Format of the encrypted JWT payload.)."],
      [{ format: 'compact-nested-jwe', encryption_key: { alg: 'RSA1_5', pem: 'x' } }, "Payload validation error: 'No enum match for: \"RSA1_5\"' on property token_encryption.encryption_key.alg (Algorithm used to encrypt the token.)."],
    ])('invalid token_encryption %j → 400', async (token_encryption, message) => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, token_encryption });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(message));
    });
  });

  describe('subject_type_authorization', () => {
    it('a PATCH with one side keeps the other', async () => {
      const api = await createApi(s);
      const r = await patch(api.id, { subject_type_authorization: { client: { policy: 'deny_all' } } });
      expect(r.body.subject_type_authorization).toEqual({ client: { policy: 'deny_all' }, user: { policy: 'allow_all' } });
    });

    it('unknown keys on the outer object → 400; client policy allow_all → 400', async () => {
      const a = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, subject_type_authorization: { robots: {} } });
      expect(a.body.message).toBe("Payload validation error: 'Additional properties not allowed: robots' on property subject_type_authorization (Defines application access permission policies for user and client flows.).");
      const b = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, subject_type_authorization: { client: { policy: 'allow_all' } } });
      expect(b.status).toBe(400);
      expect(b.body.message).toBe("Payload validation error: 'No enum match for: \"allow_all\"' on property subject_type_authorization.client.policy.");
    });
  });

  describe('signing_secret', () => {
    it('HS256 without a secret gets a generated one of at least 32 random bytes, different per API', async () => {
      const a = await createApi(s, { signing_alg: 'HS256' });
      const b = await createApi(s, { signing_alg: 'HS256' });
      for (const api of [a, b]) {
        expect(typeof api.signing_secret).toBe('string');
        expect(Buffer.from(api.signing_secret, 'base64url').length).toBeGreaterThanOrEqual(32);
      }
      expect(a.signing_secret).not.toBe(b.signing_secret);
      expect((await get(a.id)).signing_secret).toBe(a.signing_secret);
    });

    it('a given secret is kept; switching an RS256 API to HS256 generates one', async () => {
      const given = await createApi(s, { signing_alg: 'HS256', signing_secret: 'a-secret-of-at-least-16' });
      expect(given.signing_secret).toBe('a-secret-of-at-least-16');
      const rs = await createApi(s);
      expect('signing_secret' in rs).toBe(false);
      const switched = await patch(rs.id, { signing_alg: 'HS256' });
      expect(switched.body.signing_secret.length).toBeGreaterThanOrEqual(43);
    });

    it('a secret shorter than 16 characters → 400', async () => {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, signing_alg: 'HS256', signing_secret: 'short' });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe("Payload validation error: 'String is too short (5 chars), minimum 16' on property signing_secret (Secret used to sign tokens when using symmetric algorithms (HS256).).");
    });
  });

  it('read-only fields (id, is_system, client_id) are refused on create', async () => {
    for (const key of ['id', 'is_system', 'client_id']) {
      const r = await s.api('POST', '/resource-servers', { identifier: `urn:${uniq()}`, [key]: key === 'is_system' ? true : 'x' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(badRequest(`Payload validation error: 'Additional properties not allowed: ${key}'.`));
    }
  });
});
