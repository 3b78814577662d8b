import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ResourceServerCreateBody } from '../packages/server/src/schemas/resource-server';

/**
 * Issue 11's closing rule: no resource-server field may be stored and silently ignored. This walks every property of
 * the resource-server schema (nested objects and array items included) and requires, for each field, either a test
 * that shows its effect at run time (registered below as test file + test title, both checked to exist) or a row
 * under "Resource-server fields accepted, no effect" in docs/compatibility.md. A field added to the schema later
 * fails here until it gets one of the two.
 */
const ROOT = join(import.meta.dirname, '..');
const NO_EFFECT_HEADING = '## Resource-server fields accepted, no effect';

/** Field path (`a.b`, `list[].c`) → where its run-time effect is tested: [test file, test title as written there]. */
const RUNTIME_TESTS: Record<string, Array<[file: string, title: string]>> = {
  identifier: [['tests/token-errors.test.ts', 'unknown audience → 403 "Service not enabled within domain: <aud>"']],
  name: [['tests/flows-policies.test.ts', 'names the API on the consent page: its name, or its identifier when it has none']],
  'scopes[].value': [['tests/token-scopes.test.ts', 'stops issuing a scope removed from the API']],
  'scopes[].description': [['tests/flows-policies.test.ts', 'is asked when the API does not allow skipping, lists the scopes with descriptions, and is remembered']],
  signing_alg: [['tests/flows-tokens.test.ts', 'signing_alg applies to user tokens: HS256 with the API secret (no /userinfo audience), PS256 with the tenant key']],
  signing_secret: [['tests/verifiers-express-jwt-bearer.test.ts', 'an HS256 token verified with the API signing_secret']],
  allow_offline_access: [['tests/flows-tokens.test.ts', 'is not issued without offline_access, when the API disallows it, or when the client lacks the grant type']],
  skip_consent_for_verifiable_first_party_clients: [['tests/flows-policies.test.ts', 'is skipped for a first-party client only when the redirect_uri is not localhost']],
  token_lifetime: [['tests/token-scopes.test.ts', 'follows a token_lifetime change on the very next request']],
  token_lifetime_for_web: [['tests/flows-tokens.test.ts', 'token id_token: fragment response, token_lifetime_for_web, at_hash in the ID token']],
  enforce_policies: [['tests/security/tokens-authz-permissions.test.ts', 'turning enforce_policies off on a live API removes the claim from the next tokens (warm caches)']],
  token_dialect: [['tests/flows-policies.test.ts', 'rfc9068_profile_authz: typ at+jwt, client_id, jti, permissions, no gty']],
  'token_encryption.format': [['tests/token-encryption.test.ts', 'returns a 5-segment compact JWE: alg from the key, enc A256GCM, cty JWT, kid when configured; token_type and expires_in unchanged']],
  'token_encryption.encryption_key.alg': [['tests/token-encryption.test.ts', '%s: the header carries that alg and no kid when none is configured']],
  'token_encryption.encryption_key.algorithm': [['tests/token-encryption.test.ts', 'the Terraform spelling `algorithm` is accepted for `alg` and returned as `alg`; both differing, or neither, → 400']],
  'token_encryption.encryption_key.kid': [['tests/token-encryption.test.ts', 'returns a 5-segment compact JWE: alg from the key, enc A256GCM, cty JWT, kid when configured; token_type and expires_in unchanged']],
  'token_encryption.encryption_key.pem': [['tests/token-encryption.test.ts', 'the PEM is parsed once per key configuration, not per token; a new key is used at once, null turns encryption off']],
  'proof_of_possession.mechanism': [['tests/security/mtls.test.ts', 'binds a token to the client certificate: cnf["x5t#S256"] is the certificate thumbprint, token_type stays Bearer']],
  'proof_of_possession.required': [['tests/security/mtls.test.ts', 'refuses a token for an API that requires mTLS when no certificate was sent']],
  'proof_of_possession.required_for': [['tests/security/mtls.test.ts', 'matrix: client requires %s, certificate %s, API policy %s → %s']],
  'subject_type_authorization.user.policy': [['tests/flows-policies.test.ts', 'deny_all: no user tokens at all'], ['tests/flows-policies.test.ts', 'require_client_grant: without a user grant 403; with one, its scopes cap the result']],
  consent_policy: [['tests/mfa-transactional.test.ts', 'with authorization_details: consent every time, even for a first-party client the API would skip; never remembered']],
  'authorization_details[].type': [['tests/flows-rar.test.ts', 'a type withdrawn from the API while the user logs in is refused after the login'], ['tests/flows-rar.test.ts', 'the token response and the signed access token carry the approved details']],
  'subject_type_authorization.client.policy': [['tests/token-errors.test.ts', 'subject_type_authorization.client.policy = deny_all → 403 even with a grant']],
};

/**
 * Known gaps: fields with neither a run-time test nor a "no effect" row yet. Each is printed by the last test and named
 * in docs/compatibility.md. This set must shrink to empty; a field listed here that gains coverage fails the test
 * until it is removed from the set.
 */
const UNCOVERED = new Set<string>([]);

/** Every property path of a TypeBox (JSON) schema; `[]` marks array items; nullable types and `anyOf` are walked through. */
function fieldPaths(schema: TSchema, prefix = ''): Array<{ path: string; leaf: boolean }> {
  const out: Array<{ path: string; leaf: boolean }> = [];
  for (const variant of (schema.anyOf as TSchema[] | undefined) ?? [schema]) {
    const types: unknown[] = Array.isArray(variant.type) ? variant.type : [variant.type];
    if (types.includes('object') && variant.properties) {
      for (const [key, child] of Object.entries(variant.properties as Record<string, TSchema>)) {
        const path = prefix ? `${prefix}.${key}` : key;
        const nested = fieldPaths(child, path);
        out.push({ path, leaf: nested.length === 0 }, ...nested);
      }
    } else if (types.includes('array') && variant.items) {
      out.push(...fieldPaths(variant.items as TSchema, `${prefix}[]`));
    }
  }
  return out;
}

/** Field paths in the first column of the "accepted, no effect" table of docs/compatibility.md. */
function noEffectRows(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/compatibility.md'), 'utf8');
  const start = doc.indexOf(NO_EFFECT_HEADING);
  if (start < 0) return [];
  const rest = doc.slice(start + NO_EFFECT_HEADING.length);
  const section = rest.slice(0, rest.search(/\n## |$/));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}

const all = fieldPaths(ResourceServerCreateBody);
const leaves = all.filter((f) => f.leaf).map((f) => f.path);
const paths = new Set(all.map((f) => f.path));
const noEffect = noEffectRows();

describe('resource-server fields: each one has a run-time test or is documented as accepted, no effect', () => {
  it('the walk reaches nested objects and array items', () => {
    for (const p of ['identifier', 'token_encryption.encryption_key.alg', 'proof_of_possession.required_for', 'subject_type_authorization.user.policy', 'scopes[].description', 'authorization_details[].type']) {
      expect(leaves).toContain(p);
    }
    expect(leaves).not.toContain('token_encryption');
  });

  it('every registered run-time test exists: the file is there and has a test with that title', () => {
    const missing: string[] = [];
    for (const [field, tests] of Object.entries(RUNTIME_TESTS)) {
      for (const [file, title] of tests) {
        const abs = join(ROOT, file);
        const source = existsSync(abs) ? readFileSync(abs, 'utf8') : '';
        const quoted = ["'", '"', '`'].some((q) => source.includes(`${q}${title}${q}`));
        if (!file.endsWith('.test.ts') || !quoted) missing.push(`${field}: ${file} › ${title}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the registry, the no-effect rows and the known gaps name real schema fields, each in one place only', () => {
    const named = [...Object.keys(RUNTIME_TESTS), ...noEffect, ...UNCOVERED];
    expect(named.filter((p) => !paths.has(p))).toEqual([]);
    expect(named.filter((p, i) => named.indexOf(p) !== i)).toEqual([]);
  });

  it('every field of the resource-server schema is covered', () => {
    const covered = new Set([...Object.keys(RUNTIME_TESTS), ...noEffect]);
    const isCovered = (p: string) => covered.has(p) || [...covered].some((c) => p.startsWith(`${c}.`) || p.startsWith(`${c}[]`));
    if (UNCOVERED.size > 0) console.warn(`[field coverage] UNCOVERED resource-server fields (known gaps): ${[...UNCOVERED].join(', ')}`);
    expect(leaves.filter((p) => !isCovered(p) && !UNCOVERED.has(p))).toEqual([]);
    expect([...UNCOVERED].filter(isCovered)).toEqual([]);
  });
});
