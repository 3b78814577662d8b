import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, DEPLOY_ID, DEPLOY_SECRET, manifests, startServer, tempDir, type Server } from './helpers';

/** A throw-away CA and a server certificate for 127.0.0.1 / localhost, made with openssl. */
function makeCerts(): { ca: string; cert: string; key: string } {
  const dir = tempDir('tessera-deploy-tls-');
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=deploy test CA', '-keyout', p('ca.key'), '-out', p('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', p('server.key'), '-out', p('server.csr'));
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('server.ext'), '-out', p('server.crt'));
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') };
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
apiVersion: tessera/v1
kind: Client
metadata:
  name: orders-worker
spec:
  name: Orders Worker
  app_type: non_interactive
  grant_types: [client_credentials]
---
apiVersion: tessera/v1
kind: ClientGrant
metadata:
  name: worker-orders
spec:
  client: Orders Worker
  audience: https://orders.example.com
  scope: [read:orders]
`;

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
