import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/tessera';

/** One operation of the app, as its OpenAPI document describes it (so new routes are covered automatically). */
export interface Operation {
  method: string;
  /** Fastify form: `/api/v2/clients/{id}` */
  path: string;
  params: string[];
  query: Array<{ name: string; type: string }>;
  body: boolean;
}

/** Every operation in /openapi.json, plus the routes it hides (POST /userinfo, GET /openapi.json). */
export async function operationsOf(s: TestServer): Promise<Operation[]> {
  const res = await s.t.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; schema?: { type?: string } }>; requestBody?: unknown }>> };
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const ps = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(), path,
        params: ps.filter((p) => p.in === 'path').map((p) => p.name),
        query: ps.filter((p) => p.in === 'query').map((p) => ({ name: p.name, type: p.schema?.type ?? 'string' })),
        body: op.requestBody !== undefined || method === 'post' || method === 'patch' || method === 'put',
      });
    }
  }
  out.push({ method: 'POST', path: '/userinfo', params: [], query: [], body: true });
  out.push({ method: 'GET', path: '/openapi.json', params: [], query: [], body: false });
  expect(out.length).toBeGreaterThan(60);
  return out;
}

/** The path with its parameters replaced (values are percent-encoded unless `encoded`). */
export function fill(path: string, values: Record<string, string>, encoded = false): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = values[name] ?? 'x';
    return encoded ? v : encodeURIComponent(v);
  });
}

export const isManagement = (path: string) => path === '/api/v2' || path.startsWith('/api/v2/');
export const isPage = (path: string) => path === '/authorize' || path.startsWith('/u/') || path === '/v2/logout' || path === '/oidc/logout';

/** Everything the Management API can list, as one digest: equal digests mean nothing changed. */
export async function stateDigest(s: TestServer): Promise<string> {
  const lists = ['/resource-servers?per_page=100', '/clients?per_page=100', '/client-grants?per_page=100', '/roles?per_page=100',
    '/users?per_page=100', '/organizations?per_page=100', '/grants?per_page=100', '/keys/signing', '/tenants/settings'];
  const bodies = await Promise.all(lists.map(async (p) => {
    const r = await s.api('GET', p);
    expect(r.status, `${p}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body;
  }));
  return createHash('sha256').update(JSON.stringify(bodies)).digest('hex');
}

export interface Reply { status: number; body: string; headers: Record<string, unknown> }

/**
 * The error body a surface must answer with: the Management envelope under /api/v2, the hosted page's HTML
 * error or an OAuth body on the pages, the bare 401 challenge on /userinfo, an OAuth body everywhere else.
 * Returns a description of what is wrong, or undefined when the body is right.
 */
export function envelopeProblem(path: string, r: Reply): string | undefined {
  if (r.status >= 500) return `5xx: ${r.status} ${r.body.slice(0, 300)}`;
  if (r.status < 400) return undefined;
  const type = String(r.headers['content-type'] ?? '');
  let json: Record<string, unknown> | undefined;
  try { json = JSON.parse(r.body) as Record<string, unknown>; } catch { json = undefined; }
  if (isManagement(path)) {
    const ok = type.startsWith('application/json') && json !== undefined && json.statusCode === r.status && typeof json.error === 'string'
      && typeof json.message === 'string' && (json.errorCode === undefined || typeof json.errorCode === 'string');
    return ok ? undefined : `management envelope expected: ${r.status} ${r.body.slice(0, 300)}`;
  }
  if (isPage(path) && type.startsWith('text/html')) return r.body.includes('Something went wrong') ? undefined : `page error expected: ${r.body.slice(0, 300)}`;
  if (path === '/userinfo' && r.status === 401) return r.headers['www-authenticate'] ? undefined : 'userinfo 401 without challenge';
  const ok = type.startsWith('application/json') && json !== undefined && typeof json.error === 'string' && typeof json.error_description === 'string';
  return ok ? undefined : `OAuth error body expected: ${r.status} ${r.body.slice(0, 300)}`;
}
