import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, manifests } from './helpers';

const API = (spec: string, name = 'orders-api') => `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: ${name}
spec:
${spec}`;

describe('tessera validate', { timeout: 60_000 }, () => {
  it('accepts valid manifests in a folder, several documents per file, including the seed\'s Auth0ResourceServer form', async () => {
    const dir = manifests({
      'apis.yaml': `${API('  identifier: https://orders.example.com\n  name: Orders API\n  scopes:\n    - value: read:orders\n')}---\n${API('  identifier: urn:billing\n  token_lifetime: 900\n  token_lifetime_for_web: 300\n', 'billing')}`,
      'nested/legacy.yml': `apiVersion: auth0.project-planton.org/v1
kind: Auth0ResourceServer
metadata:
  name: rbac-api
spec:
  identifier: https://rbac.example.com
  name: RBAC Protected API
  enforce_policies: true
  token_dialect: access_token_authz
  scopes:
    - name: admin
      description: Full administrative access
`,
      'ignored.txt': 'not a manifest',
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('valid: 3 resource(s), 0 error(s), 0 warning(s)\n');
    expect(r.code).toBe(0);
  });

  it('reports every error with file, line, document and field path, in the server\'s wording, and exits 1', async () => {
    const dir = manifests({
      'bad.yaml': `${API('  identifier: https://a.example.com\n  name: Orders API\n')}---\n${API(`  identifier: https://b.example.com
  name: "bad <name>"
  signing_alg: HS512
  token_lifetime: 9999999
  scopes:
    - value: read:x
    - description: no value
  colour: blue
`, 'b-api')}---
${API('  identifier: https://c.example.com\n  token_lifetime: 600\n  token_lifetime_for_web: 1200\n', 'c-api')}`,
    });
    const r = await cli(['validate', '-f', join(dir, 'bad.yaml')]);
    const file = join(dir, 'bad.yaml');
    const shown = resolve(file); // outside the working directory: shown absolute
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `error: ${shown}, line 15, document 2: spec.name: String does not match pattern ^[^<>]+$: bad <name>`,
      `error: ${shown}, line 16, document 2: spec.signing_alg: No enum match for: "HS512" (expected one of "HS256", "RS256", "RS512", "PS256")`,
      `error: ${shown}, line 17, document 2: spec.token_lifetime: Value 9999999 is greater than maximum 2592000`,
      `error: ${shown}, line 20, document 2: spec.scopes[1]: Missing required property: value`,
      `error: ${shown}, line 21, document 2: spec.colour: Additional properties not allowed: colour`,
      `error: ${shown}, line 30, document 3: spec.token_lifetime_for_web: token_lifetime_for_web (1200) cannot be greater than token_lifetime (600)`,
      'invalid: 3 resource(s), 6 error(s), 0 warning(s)',
      '',
    ]);
  });

  it('reports envelope, metadata, spec and cross-field errors of one document together, with "did you mean" for unknown fields', async () => {
    const dir = manifests({
      'one.yaml': `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: Orders_API
  lables:
    team: orders
spec:
  identifier: https://orders.example.com
  token_lifetme: 600
  token_lifetime: 300
  token_lifetime_for_web: 900
  scopes:
    - value: read:orders
    - value: read:orders
---
apiVersion: tessera/v1
kind: ResourceServers
metadata:
  name: typo
spec: {}
`,
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.code).toBe(1);
    const file = resolve(dir, 'one.yaml');
    expect(r.stdout.split('\n')).toEqual([
      `error: ${file}, line 4, document 1: metadata.name: String does not match pattern ^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$: Orders_API`,
      `error: ${file}, line 5, document 1: metadata.lables: Additional properties not allowed: lables; did you mean labels?`,
      `error: ${file}, line 9, document 1: spec.token_lifetme: Additional properties not allowed: token_lifetme; did you mean token_lifetime?`,
      `error: ${file}, line 11, document 1: spec.token_lifetime_for_web: token_lifetime_for_web (900) cannot be greater than token_lifetime (300)`,
      `error: ${file}, line 14, document 1: spec.scopes[1]: Array items are not unique (indexes 0 and 1): scope read:orders`,
      `error: ${file}, line 17, document 2: kind: No enum match for: "ResourceServers" (expected one of "ResourceServer", "Client", "ClientGrant", "Role", "Auth0ResourceServer", "Auth0Client"); did you mean "ResourceServer"?`,
      'invalid: 1 resource(s), 6 error(s), 0 warning(s)',
      '',
    ]);
  });

  it('reports camelCase fields of Project Planton documents at their own line, in the user\'s spelling', async () => {
    const dir = manifests({
      'camel.yaml': `apiVersion: auth0.project-planton.org/v1
kind: Auth0ResourceServer
metadata:
  name: camel-api
  org: acme
spec:
  identifier: https://camel.example.com
  signingAlg: HS512
  tokenLifetime: 600
  tokenLifetimeForWeb: 1200
  enforcePolicies: true
  skipConsentForVerifiableFirstPartyClient: true
  scopes:
    - name: read:camels
      descripton: Read camels
`,
    });
    const r = await cli(['validate', '-f', dir, '--output', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.issues.map((i: { severity: string; line: number; path: string; message: string }) => `${i.severity} ${i.line} ${i.path}: ${i.message}`)).toEqual([
      'error 8 spec.signingAlg: No enum match for: "HS512" (expected one of "HS256", "RS256", "RS512", "PS256")',
      'error 10 spec.tokenLifetimeForWeb: tokenLifetimeForWeb (1200) cannot be greater than tokenLifetime (600)',
      'warning 11 spec.enforcePolicies: RBAC is enforced (enforcePolicies: true) but token_dialect is not access_token_authz or rfc9068_profile_authz: tokens will carry no permissions claim. Set both to make RBAC work.',
      'error 12 spec.skipConsentForVerifiableFirstPartyClient: Additional properties not allowed: skipConsentForVerifiableFirstPartyClient; did you mean skipConsentForVerifiableFirstPartyClients?',
      'error 15 spec.scopes[0].descripton: Additional properties not allowed: descripton; did you mean description?',
    ]);
    expect(out).toMatchObject({ valid: false, errors: 4, warnings: 1 });
  });

  it('catches reserved identifiers offline: local servers and Auth0 tenants always, the --domain target, others as a warning', async () => {
    const api = (name: string, identifier: string) => `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata:\n  name: ${name}\nspec:\n  identifier: ${identifier}\n`;
    const dir = manifests({
      'r.yaml': [
        api('local', 'http://127.0.0.1:3000/api/v2/'), api('tenant', 'https://acme.eu.auth0.com/userinfo'),
        api('target', 'https://auth.acme.test/mfa/'), api('versioned', 'https://api.acme.test/api/v2/'), api('fine', 'https://api.acme.test/api/v3/'),
      ].join('---\n'),
    });
    const r = await cli(['validate', '-f', dir, '--domain', 'auth.acme.test']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('document 1: spec.identifier: http://127.0.0.1:3000/api/v2/ is reserved: it is the Management API audience of the server at 127.0.0.1:3000, which refuses it as an API identifier');
    expect(r.stdout).toContain('document 2: spec.identifier: https://acme.eu.auth0.com/userinfo is reserved: it is the /userinfo endpoint of the server at acme.eu.auth0.com');
    expect(r.stdout).toContain('document 3: spec.identifier: https://auth.acme.test/mfa/ is reserved: it is the MFA API audience of the server at auth.acme.test');
    expect(r.stdout).toContain('warning: ');
    expect(r.stdout).toContain('document 4: spec.identifier: https://api.acme.test/api/v2/ has the form of the Management API audience of a server at api.acme.test');
    expect(r.stdout).not.toContain('document 5');
    expect(r.stdout).toContain('invalid: 5 resource(s), 3 error(s), 1 warning(s)');
    // the same target through the environment, as plan and apply read it
    const env = await cli(['validate', '-f', dir], { TESSERA_DEPLOY_DOMAIN: 'api.acme.test' });
    expect(env.stdout).toContain('document 4: spec.identifier: https://api.acme.test/api/v2/ is reserved');
    expect(env.stdout).toContain('document 3: spec.identifier: https://auth.acme.test/mfa/ has the form of');
  });

  it('warns when RBAC is enforced without an _authz dialect (seed 000: "RBAC not working") and still exits 0', async () => {
    const dir = manifests({ 'rbac.yaml': API('  identifier: https://rbac.example.com\n  enforce_policies: true\n') });
    const r = await cli(['validate', '-f', dir, '--output', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: true, errors: 0, warnings: 1 });
    expect(out.issues).toEqual([{
      severity: 'warning', file: expect.stringMatching(/rbac\.yaml$/), doc: 1, line: 7, path: 'spec.enforce_policies',
      message: 'RBAC is enforced (enforce_policies: true) but token_dialect is not access_token_authz or rfc9068_profile_authz: tokens will carry no permissions claim. Set both to make RBAC work.',
    }]);
  });

  it('checks references and duplicates across documents', async () => {
    const dir = manifests({
      'all.yaml': `${API('  identifier: https://orders.example.com\n  scopes:\n    - value: read:orders\n')}---
${API('  identifier: https://orders.example.com\n', 'again')}---
apiVersion: tessera/v1
kind: ClientGrant
metadata:
  name: g
spec:
  client: Worker
  audience: https://orders.example.com
  scope: [read:orders, write:orders]
---
apiVersion: tessera/v1
kind: Role
metadata:
  name: reader
spec:
  name: Reader
  permissions:
    - resource_server_identifier: https://orders.example.com
      permission_name: delete:orders
---
apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: mgmt
spec:
  identifier: https://x.example.com/api/v2/
  name: Auth0 Management API
`,
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('document 2: spec.identifier: an API with identifier https://orders.example.com is already declared in');
    expect(r.stdout).toContain('document 3: spec.scope: Scopes not defined on the resource server https://orders.example.com');
    expect(r.stdout).toContain(': write:orders\n');
    expect(r.stdout).toContain('document 4: spec.permissions[0].permission_name: delete:orders is not a scope of https://orders.example.com');
    expect(r.stdout).toContain('document 5: spec.name: "Auth0 Management API" is the system API and cannot be managed from manifests');
    expect(r.stdout).toContain('document 5: spec.identifier: https://x.example.com/api/v2/ has the form of the Management API audience of a server at x.example.com: that server refuses it as an API identifier (reserved)');
    expect(r.stdout).toContain('invalid: 5 resource(s), 4 error(s), 1 warning(s)');
  });

  it('reports YAML syntax errors and unknown kinds without stopping at the first one', async () => {
    const dir = manifests({
      'a.yaml': 'apiVersion: tessera/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n---\nkey: [unclosed\n',
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error: .*a\.yaml, line 2, document 1: kind: No enum match for: "Widget"/);
    expect(r.stdout).toMatch(/error: .*a\.yaml, line \d+, document 2: YAML syntax: /);
  });

  it('refuses token encryption keys the server refuses: private key material, short RSA keys', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const indent = (pem: string) => pem.trim().split('\n').map((l) => `        ${l}`).join('\n');
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const key = (pem: string) => `  token_encryption:\n    format: compact-nested-jwe\n    encryption_key:\n      alg: RSA-OAEP-256\n      pem: |\n${indent(pem)}\n`;
    const dir = manifests({
      'keys.yaml': `${API(`  identifier: https://priv.example.com\n${key(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())}`, 'priv')}---\n${API(`  identifier: https://short.example.com\n${key(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString())}`, 'short')}`,
    });
    const r = await cli(['validate', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/document 1: spec\.token_encryption\.encryption_key\.pem: Invalid PEM: private key material is not accepted/);
    expect(r.stdout).toMatch(/document 2: spec\.token_encryption\.encryption_key\.pem: Invalid PEM: the RSA key has 1024 bits, at least 2048 are required/);
  });

  it('publishes the same JSON Schema the validator uses (docs/manifest.schema.json)', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const published = readFileSync(resolve(import.meta.dirname, '../../docs/manifest.schema.json'), 'utf8');
    expect(published).toBe(r.stdout);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.kind.enum).toEqual(['ResourceServer', 'Client', 'ClientGrant', 'Role', 'Auth0ResourceServer', 'Auth0Client']);
    const rs = schema.allOf[0].then.properties.spec;
    expect(rs.properties.token_lifetime).toMatchObject({ type: 'integer', maximum: 2592000 });
    expect(rs.properties.signing_alg.enum).toEqual(['HS256', 'RS256', 'RS512', 'PS256']);
    expect(Object.keys(rs.properties)).toEqual(expect.arrayContaining([
      'identifier', 'name', 'scopes', 'signing_alg', 'signing_secret', 'allow_offline_access', 'token_lifetime', 'token_lifetime_for_web',
      'skip_consent_for_verifiable_first_party_clients', 'enforce_policies', 'token_dialect', 'consent_policy', 'authorization_details',
      'token_encryption', 'proof_of_possession', 'subject_type_authorization', 'verification_location',
    ]));
  });

  it('refuses --insecure-http for a host that is not loopback, before any network call', async () => {
    const dir = manifests({ 'a.yaml': API('  identifier: urn:a\n') });
    const r = await cli(['plan', '-f', dir, '--domain', 'tenant.example.com', '--client-id', 'x', '--client-secret', 'y', '--insecure-http']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tessera: --insecure-http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost), not tenant.example.com\n');
  });
});
