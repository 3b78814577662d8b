import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts as makeTestCerts } from '../helpers/certs';
import { cli, DEPLOY_ID, DEPLOY_SECRET, manifests, startServer, workerManifests, type Server } from './helpers';

/** The shared throw-away CA and server certificate, in the shape startServer takes. */
function makeCerts(): { ca: string; cert: string; key: string } {
  const c = makeTestCerts();
  return { ca: c.caFile, cert: c.certFile, key: c.keyFile };
}

const API = `apiVersion: tessera/v1
kind: ResourceServer
metadata:
  name: orders-api
spec:
  identifier: https://orders.example.com
  name: Orders API
  scopes:
    - value: read:orders
  token_lifetime: 3600
---
` + workerManifests(['read:orders'], { authMethod: false });

describe('deploying over HTTPS, the Auth0 way (https://{domain}, CA trusted with NODE_EXTRA_CA_CERTS)', { timeout: 120_000 }, () => {
  let s: Server;
  let certs: ReturnType<typeof makeCerts>;
  beforeAll(async () => {
    certs = makeCerts();
    s = await startServer({ tls: certs });
  });
  afterAll(async () => { await s?.stop(); });

  it('applies with --domain host:port and flags only, then a second apply is a no-op', async () => {
    expect(s.origin).toBe(`https://127.0.0.1:${s.port}`);
    const dir = manifests({ 'tenant.yaml': API });
    const flags = ['--domain', s.domain, '--client-id', DEPLOY_ID, '--client-secret', DEPLOY_SECRET];
    const env = { NODE_EXTRA_CA_CERTS: certs.ca };
    const r = await cli(['apply', '-f', dir, ...flags], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Plan for https://127.0.0.1:${s.port}\n`);
    expect(r.stdout).toContain('Apply complete: 3 created, 0 updated, 0 replaced, 0 deleted.');
    expect(r.stdout).toMatch(/Outputs:\n {2}orders-api\n {4}id {22}[0-9a-f]{24}\n/);
    const again = await cli(['apply', '-f', dir, ...flags], env);
    expect(again.code).toBe(0);
    expect(again.stdout.startsWith('No changes. The target matches the manifests; nothing to apply.\n')).toBe(true);
    const json = JSON.parse((await cli(['plan', '-f', dir, '--output', 'json'], { ...s.env })).stdout);
    expect(json).toMatchObject({ target: `https://127.0.0.1:${s.port}`, summary: { create: 0, update: 0, replace: 0, delete: 0, unchanged: 3 } });
  });

  it('fails clearly when the CA is not trusted', async () => {
    const dir = manifests({ 'tenant.yaml': API });
    const r = await cli(['plan', '-f', dir, '--domain', s.domain, '--client-id', DEPLOY_ID, '--client-secret', DEPLOY_SECRET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tessera: cannot reach https://127\\.0\\.0\\.1:${s.port}: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY) `));
  });
});
