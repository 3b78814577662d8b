// Judge of issue #19: auth0-deploy-cli (`a0deploy` 8.44, unchanged) imports a small tenant into a running
// `tessera dev` (the real binary, HTTPS from the local CA), given only what the banner prints, and the imported
// tenant works: the imported M2M client gets a token for the imported API carrying exactly the granted scopes.
// a0deploy costs ~30 s of CPU per import (its own schema compilation): one import.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { caDir, startDev, type DevServer } from './helpers/dev';

// a0deploy's import alone took 1–3 minutes on a loaded 2-core machine
vi.setConfig({ testTimeout: 120_000, hookTimeout: 600_000 });
const ROOT = resolve(import.meta.dirname, '..');
const A0DEPLOY = join(ROOT, 'node_modules/auth0-deploy-cli/lib/index.js');
const API = 'https://inventory.example.test/';

// a0deploy's YAML format, with its own keyword replacement (AUTH0_KEYWORD_REPLACE_MAPPINGS)
const TENANT_YAML = `
resourceServers:
  - name: Inventory API
    identifier: "##API##"
    signing_alg: RS256
    token_dialect: access_token_authz
    enforce_policies: true
    scopes:
      - { value: read:stock, description: Read stock }
      - { value: write:stock, description: Write stock }
      - { value: delete:stock, description: Delete stock }
clients:
  - name: Stock Sync
    app_type: non_interactive
    grant_types: [client_credentials]
    token_endpoint_auth_method: client_secret_post
clientGrants:
  - client_id: Stock Sync
    audience: "##API##"
    scope: [read:stock, write:stock]
roles:
  - name: Stock Reader
    description: Reads stock
    permissions:
      - { permission_name: read:stock, resource_server_identifier: "##API##" }
`;

/** The real `a0deploy` bin as a developer runs it: the variables `tessera dev` printed, nothing else of ours. */
const running = new Set<ChildProcess>();
function a0deploy(args: string[], printed: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [A0DEPLOY, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME,
        AUTH0_DOMAIN: printed.AUTH0_DOMAIN, AUTH0_CLIENT_ID: printed.AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET: printed.AUTH0_CLIENT_SECRET,
        NODE_EXTRA_CA_CERTS: printed.NODE_EXTRA_CA_CERTS, AUTH0_KEYWORD_REPLACE_MAPPINGS: JSON.stringify({ API }),
      },
    });
    running.add(p);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => { running.delete(p); res({ code, out }); });
  });
}

describe('a0deploy import into a running tessera dev', () => {
  let dev: DevServer;
  let printed: Record<string, string>;
  let imported: { code: number | null; out: string };
  beforeAll(async () => {
    dev = await startDev([], { caDir: caDir() });
    printed = Object.fromEntries([...dev.server.output().matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dev-a0deploy-'));
    writeFileSync(join(dir, 'tenant.yaml'), TENANT_YAML);
    imported = await a0deploy(['import', '--input_file', join(dir, 'tenant.yaml')], printed, dir);
  });
  afterAll(async () => {
    for (const p of running) p.kill(); // a timed-out import must not outlive the suite
    await dev?.stop();
  });

  it('succeeds over HTTPS with the printed domain, admin credentials and NODE_EXTRA_CA_CERTS', () => {
    expect(printed.AUTH0_DOMAIN).toBe(`localhost:${dev.port}`);
    expect(printed.NODE_EXTRA_CA_CERTS).toBeDefined();
    expect(imported.out).toContain('Import Successful');
    expect(imported.code).toBe(0);
    for (const kind of ['resourceServers', 'clients', 'clientGrants', 'roles']) expect(imported.out).toContain(`Created [${kind}]`);
  });

  it('the imported M2M client gets a token for the imported API with exactly the granted scopes, verifiable at the JWKS', async () => {
    const client = (await dev.mgmt('GET', '/clients?is_global=false')).body.find((c: any) => c.name === 'Stock Sync');
    expect(client).toBeDefined();
    const r = await dev.token(client.client_id, client.client_secret, API);
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('read:stock write:stock');
    const jwks = await (await dev.fetch('/.well-known/jwks.json')).json() as Parameters<typeof createLocalJWKSet>[0];
    const { payload } = await jwtVerify(r.body.access_token, createLocalJWKSet(jwks), { issuer: `https://${printed.AUTH0_DOMAIN}/`, audience: API });
    expect(payload.scope).toBe('read:stock write:stock');
    expect(payload.permissions).toEqual(['read:stock', 'write:stock']); // the imported API's access_token_authz dialect
    expect(payload.sub).toBe(`${client.client_id}@clients`);
    // a scope the imported grant does not hold is refused
    const wider = await dev.token(client.client_id, client.client_secret, API, 'delete:stock');
    expect(wider.status).toBe(403);
    expect(wider.body.error).toBe('access_denied');
  });

  it('the imported role holds its permission on the imported API', async () => {
    const role = (await dev.mgmt('GET', '/roles')).body.find((x: any) => x.name === 'Stock Reader');
    expect(role.description).toBe('Reads stock');
    expect((await dev.mgmt('GET', `/roles/${role.id}/permissions`)).body.map((p: any) => [p.resource_server_identifier, p.permission_name])).toEqual([[API, 'read:stock']]);
  });
});
