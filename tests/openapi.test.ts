import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, PUBLIC_URL, startTessera, type TestServer } from './helpers/tessera';
import { uniq } from './helpers/management';
import { ScopeTokens, VOCABULARY } from './security/scope-tokens';

/**
 * /openapi.json: a valid OpenAPI 3.1 document whose security requirements are what the routes enforce, with
 * tags, summaries and defaults that match what the server really does.
 */
type Security = Array<Record<string, string[]>>;
interface Op { summary?: string; description?: string; tags?: string[]; security?: Security; requestBody?: { content: Record<string, { schema: Schema }> }; responses?: object }
interface Schema { type?: unknown; default?: unknown; description?: string; properties?: Record<string, Schema>; [k: string]: unknown }
interface Doc {
  openapi: string; info: { title: string; version: string };
  tags: Array<{ name: string; description?: string }>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>; schemas?: object };
  paths: Record<string, Record<string, Op>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const validatorInstalled = spawnSync('python3', ['-c', 'import openapi_spec_validator'], { stdio: 'ignore' }).status === 0;

function operations(doc: Doc): Array<{ method: string; path: string; op: Op }> {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ method, path, op })));
}

/** A JSON pointer `#/a/b` resolved against the document. */
function resolvePointer(doc: unknown, ref: string): unknown {
  return ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), doc);
}

function walk(node: unknown, visit: (value: Record<string, unknown>, path: string) => void, path = '#'): void {
  if (!node || typeof node !== 'object') return;
  if (!Array.isArray(node)) visit(node as Record<string, unknown>, path);
  for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}/${k}`);
}

const createBody = (doc: Doc, path: string): Schema => doc.paths[path].post.requestBody!.content['application/json'].schema;

describe('/openapi.json', () => {
  let s: TestServer;
  let doc: Doc;
  let tokens: ScopeTokens;
  beforeAll(async () => {
    s = await startTessera('sqlite');
    tokens = new ScopeTokens(s);
    const res = await s.t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = JSON.parse(res.body) as Doc;
  });
  afterAll(async () => { await s?.close(); });

  it.skipIf(!validatorInstalled)('validates as OpenAPI 3.1 (openapi-spec-validator)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      mkdirSync(join(process.cwd(), 'test-artifacts'), { recursive: true });
      writeFileSync(join(process.cwd(), 'test-artifacts', 'openapi.json'), JSON.stringify(doc, null, 2));
      const r = spawnSync('python3', ['-m', 'openapi_spec_validator', '--schema', '3.1', file], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`, 'validator output').toMatch(/OK/);
      expect(r.status).toBe(0);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }, 180_000);

  it('is structurally sound: version, every $ref resolves, every path parameter declared, every operation answered', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Tessera');
    const broken: string[] = [];
    walk(doc, (node, at) => {
      if (typeof node.$ref === 'string' && resolvePointer(doc, node.$ref) === undefined) broken.push(`${at}: ${node.$ref}`);
    });
    expect(broken).toEqual([]);
    for (const { method, path, op } of operations(doc)) {
      const declared = ((op as { parameters?: Array<{ in: string; name: string }> }).parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      expect(declared, `${method} ${path}`).toEqual([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort());
      expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });

  it('declares the security schemes: Bearer JWT for the Management API, client authentication for /oauth/token', () => {
    expect(doc.components.securitySchemes.managementApi).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.components.securitySchemes.managementApi).toHaveProperty('description', expect.stringContaining(MGMT_AUDIENCE));
    expect(doc.components.securitySchemes.clientSecretBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/par']) {
      expect(doc.paths[path].post.security, path).toEqual([{ clientSecretBasic: [] }, {}]);
    }
    // every scheme an operation names exists
    const used = operations(doc).flatMap(({ op }) => (op.security ?? []).flatMap((r) => Object.keys(r)));
    expect(used.filter((n) => !(n in doc.components.securitySchemes))).toEqual([]);
  });

  it('the Basic scheme it declares for /oauth/token works, and a wrong secret is refused', async () => {
    const basic = (secret: string) => `Basic ${Buffer.from(`${ADMIN_ID}:${secret}`).toString('base64')}`;
    const ok = await s.token({ grant_type: 'client_credentials', audience: MGMT_AUDIENCE }, { headers: { authorization: basic(ADMIN_SECRET) } });
    expect(ok.status).toBe(200);
    const bad = await s.token({ grant_type: 'client_credentials', audience: MGMT_AUDIENCE }, { headers: { authorization: basic('wrong-secret-0123456789') } });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('access_denied'); // Auth0's answer to a wrong secret
  });

  it('every Management operation names the scopes it accepts (vocabulary only), a summary, a tag and the scopes in words', () => {
    const mgmt = operations(doc).filter((o) => o.path.startsWith('/api/v2/'));
    expect(mgmt.length).toBeGreaterThan(60);
    const vocabulary = new Set(VOCABULARY);
    const declaredTags = new Set(doc.tags.map((t) => t.name));
    for (const { method, path, op } of mgmt) {
      const where = `${method} ${path}`;
      expect(op.security?.length, where).toBeGreaterThan(0);
      for (const req of op.security!) {
        expect(Object.keys(req), where).toEqual(['managementApi']);
        expect(req.managementApi.length, where).toBeGreaterThan(0);
        expect(req.managementApi.filter((x) => !vocabulary.has(x)), where).toEqual([]);
        for (const scope of req.managementApi) expect(op.description, where).toContain(`\`${scope}\``);
      }
      expect(op.summary, where).toBeTruthy();
      expect(op.description, where).toMatch(/\*\*Scopes:\*\*/);
      expect(op.tags?.length, where).toBeGreaterThan(0);
    }
    // every tag in use is declared with a description
    const usedTags = new Set(operations(doc).flatMap(({ op }) => op.tags ?? []));
    expect([...usedTags].filter((t) => !declaredTags.has(t))).toEqual([]);
    for (const t of doc.tags) expect(t.description, t.name).toBeTruthy();
  });

  it('each Management operation refuses a token holding every scope but the ones it lists (403, the same scopes named)', async () => {
    const mgmt = operations(doc).filter((o) => o.path.startsWith('/api/v2/'));
    for (const { method, path, op } of mgmt) {
      const listed = op.security!.map((r) => r.managementApi);
      const token = await tokens.allBut(listed.flat());
      const url = path.replace(/\{[^}]+\}/g, 'none');
      const res = await s.t.app.inject({ method: method.toUpperCase() as 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, `${method} ${path}`).toBe(403);
      const body = JSON.parse(res.body) as { errorCode: string; message: string };
      expect(body.errorCode).toBe('insufficient_scope');
      // Auth0's wording names the alternatives ("any of") or the first set ("all of")
      const expected = listed[0].length > 1 ? `Insufficient scope, expected all of: ${listed[0].join(',')}` : `Insufficient scope, expected any of: ${listed.filter((l) => l.length === 1).flat().join(',')}`;
      expect(body.message, `${method} ${path}`).toBe(expected);
    }
  });

  it('each alternative it lists is let through on its own (a sample of reads and writes)', async () => {
    const sample: Array<[string, string, string]> = [
      ['get', '/api/v2/clients', '/api/v2/clients'],
      ['get', '/api/v2/users/{id}/roles', '/api/v2/users/auth0%7Cnone/roles'],
      ['patch', '/api/v2/users/{id}', '/api/v2/users/auth0%7Cnone'],
      ['post', '/api/v2/resource-servers', '/api/v2/resource-servers'],
      ['delete', '/api/v2/client-grants/{id}', '/api/v2/client-grants/cgr_none'],
      ['get', '/api/v2/logs', '/api/v2/logs'],
    ];
    for (const [method, path, url] of sample) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      for (const alt of op.security!.map((r) => r.managementApi)) {
        const token = await tokens.get(alt);
        const res = await s.t.app.inject({ method: method.toUpperCase() as 'GET', url, headers: { authorization: `Bearer ${token}` } });
        expect([401, 403], `${method} ${path} with ${alt.join(' + ')}: ${res.body}`).not.toContain(res.statusCode);
      }
    }
  });

  it('says RS256 is the default signing algorithm of an API, nowhere HS256', () => {
    const body = createBody(doc, '/api/v2/resource-servers');
    expect(body.properties!.signing_alg.default).toBe('RS256');
    expect(body.properties!.signing_alg.description).not.toMatch(/HS256[`]? \(default\)/);
    expect(JSON.stringify(doc)).not.toMatch(/HS256[`]? \(default\)/);
  });

  it('every default it documents for an API or a client is what a create without that field returns', async () => {
    for (const [path, minimal, label] of [
      ['/api/v2/resource-servers', { identifier: `https://defaults-${uniq()}.example.com` }, 'resource server'],
      ['/api/v2/clients', { name: `defaults-${uniq()}` }, 'client'],
    ] as const) {
      const props = createBody(doc, path).properties!;
      const defaults = Object.entries(props).filter(([, p]) => p.default !== undefined);
      expect(defaults.length, label).toBeGreaterThan(3);
      const created = await s.api('POST', path.slice(7), minimal);
      expect(created.status).toBe(201);
      for (const [field, p] of defaults) expect(created.body[field], `${label}.${field}`).toEqual(p.default);
    }
  });

  it('puts no default on a PATCH body (an omitted field keeps its value) nor on a query parameter it does not apply', () => {
    for (const { method, path, op } of operations(doc)) {
      if (method !== 'patch' || !op.requestBody) continue;
      walk(op.requestBody, (node, at) => expect(node.default, `${method} ${path} ${at}`).toBeUndefined());
    }
    for (const { method, path, op } of operations(doc)) {
      for (const p of (op as { parameters?: Array<{ in: string; schema?: Schema }> }).parameters ?? []) {
        if (p.in === 'query') expect(p.schema?.default, `${method} ${path}`).toBeUndefined();
      }
    }
  });

  it('is served to anyone (no token), with the public URL as the server', async () => {
    expect((doc as unknown as { servers: Array<{ url: string }> }).servers).toEqual([{ url: PUBLIC_URL }]);
  });
});
