import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnTessera, type RunningServer } from '../helpers/process';
import { cli, manifests, tempDir, workerManifests } from './helpers';

// A default-configured server (no TESSERA_PUBLIC_URL: its issuer is http://localhost:<port>/) reached as
// --domain 127.0.0.1:<port>: the audience Auth0's rule derives from the domain is not the server's, and HTTPS
// meets a plain-HTTP listener.
const ID = 'friction-admin';
const SECRET = 'friction-admin-secret-0123456789';

describe('deploy CLI against a server whose issuer names another host', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let port: number;
  let dir: string;
  beforeAll(async () => {
    port = await freePort();
    server = await spawnTessera({
      TESSERA_PORT: String(port), TESSERA_DATABASE_URL: `sqlite:${tempDir('tessera-friction-')}/t.db`,
      TESSERA_ADMIN_CLIENT_ID: ID, TESSERA_ADMIN_CLIENT_SECRET: SECRET, TESSERA_LOG_LEVEL: 'warn',
    });
    dir = manifests({ 'worker.yaml': workerManifests(['read:orders']).replace(/---\napiVersion: tessera\/v1\nkind: ClientGrant[\s\S]*$/, '') });
  });
  afterAll(async () => { await server?.stop(); });
  const flags = () => ['--domain', `127.0.0.1:${port}`, '--client-id', ID, '--client-secret', SECRET];

  it('--domain 127.0.0.1:<port> uses the audience of the server\'s issuer and says so', async () => {
    const r = await cli(['plan', '-f', dir, ...flags(), '--insecure-http']);
    expect(r.stderr).toBe(`tessera: note: http://127.0.0.1:${port} has issuer http://localhost:${port}/: using the Management API audience http://localhost:${port}/api/v2/ (pass --audience, or a --domain matching the issuer, to say so)\n`);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('+ Client orders-worker (Orders Worker): create');
  });

  it('an explicit --audience is never replaced; its refusal says exactly which --audience or --domain to pass', async () => {
    const r = await cli(['plan', '-f', dir, ...flags(), '--insecure-http', '--audience', `http://127.0.0.1:${port}/api/v2/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`could not get a Management API token from http://127.0.0.1:${port}/oauth/token (audience http://127.0.0.1:${port}/api/v2/): 403`);
    expect(r.stderr).toContain(`\nthe server's issuer is http://localhost:${port}/: pass --audience http://localhost:${port}/api/v2/ (or --domain localhost:${port} --insecure-http without --audience)\n`);
    expect(r.stderr).not.toContain('note:');
    // both suggestions work as written
    const byAudience = await cli(['plan', '-f', dir, ...flags(), '--insecure-http', '--audience', `http://localhost:${port}/api/v2/`]);
    expect(byAudience.code, byAudience.stderr).toBe(2);
    expect(byAudience.stderr).toBe('');
    const byDomain = await cli(['plan', '-f', dir, '--domain', `localhost:${port}`, '--client-id', ID, '--client-secret', SECRET, '--insecure-http']);
    expect(byDomain.code, byDomain.stderr).toBe(2);
    expect(byDomain.stderr).toBe('');
  });

  it('a wrong secret is not second-guessed: 401 names the client, without an audience hint', async () => {
    const r = await cli(['plan', '-f', dir, '--domain', `127.0.0.1:${port}`, '--client-id', ID, '--client-secret', 'not-the-secret', '--insecure-http']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not get a Management API token from .*: 401 /);
    expect(r.stderr).not.toContain('issuer');
  });

  it('an identifier the server reserves is refused offline, by validate and by plan before any call', async () => {
    const reserved = manifests({ 'api.yaml': `apiVersion: tessera/v1\nkind: ResourceServer\nmetadata:\n  name: mgmt-copy\nspec:\n  identifier: http://localhost:${port}/mfa/\n  name: Copy\n` });
    const offline = await cli(['validate', '-f', reserved]);
    expect(offline.code).toBe(1);
    expect(offline.stdout).toContain(`spec.identifier: http://localhost:${port}/mfa/ is reserved: it is the MFA API audience of the server at localhost:${port}`);
    const plan = await cli(['plan', '-f', reserved, ...flags(), '--insecure-http']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('nothing was sent to the target');
  });

  it('HTTPS against the plain-HTTP listener says to add --insecure-http', async () => {
    const r = await cli(['plan', '-f', dir, ...flags()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tessera: cannot reach https://127.0.0.1:${port}: the server speaks plain HTTP: add --insecure-http (loopback hosts only) or serve TLS (TESSERA_TLS_CERT/TESSERA_TLS_KEY)\n`);
  });
});
