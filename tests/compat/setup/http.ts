import { randomBytes } from 'node:crypto';
import type { Target } from './targets';

/** A name no other scenario (or earlier run against the same database) uses. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** POST /oauth/token with a form body, as every OAuth client does; returns status and parsed JSON. */
export async function tokenRequest(target: Target, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${target.baseUrl}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() };
}

const adminTokens = new Map<string, Promise<string>>();

/** A Management API token for the bootstrap admin client (cached per target). */
export function adminToken(target: Target): Promise<string> {
  let t = adminTokens.get(target.baseUrl);
  if (!t) {
    t = tokenRequest(target, {
      grant_type: 'client_credentials', client_id: target.adminClientId, client_secret: target.adminClientSecret, audience: target.managementAudience,
    }).then((r) => {
      if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.access_token as string;
    });
    adminTokens.set(target.baseUrl, t);
  }
  return t;
}

/** A raw Management API call with the admin token, for fixtures the client under test does not cover. */
export async function mgmt(target: Target, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${target.baseUrl}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken(target)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Whether the server serves a Management route at all (an unknown route answers 404 `not_found`; a known one
 * answers anything else, for example 404 `inexistent_…` or 200). Used to skip scenarios for endpoints that have
 * not been built yet, with the reason printed.
 */
export async function routeServed(target: Target, method: string, path: string): Promise<boolean> {
  if (target.skipReason || target.failReason) return false;
  const r = await mgmt(target, method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
  return !(r.status === 404 && r.body?.errorCode === 'not_found');
}

/** Creates an M2M client and grants it `scope` on `audience` (raw API: fixtures for token-side scenarios). */
export async function m2mClientFor(target: Target, audience: string, scope: string[], name = unique('compat-m2m')): Promise<{ client_id: string; client_secret: string }> {
  const c = await mgmt(target, 'POST', '/clients', { name, app_type: 'non_interactive', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
  if (c.status !== 201) throw new Error(`create client: ${c.status} ${JSON.stringify(c.body)}`);
  const g = await mgmt(target, 'POST', '/client-grants', { client_id: c.body.client_id, audience, scope });
  if (g.status !== 201) throw new Error(`create grant: ${g.status} ${JSON.stringify(g.body)}`);
  return { client_id: c.body.client_id, client_secret: c.body.client_secret };
}

/** Creates an API (raw API) and returns the created body. */
export async function apiFixture(target: Target, body: Record<string, unknown>): Promise<any> {
  const r = await mgmt(target, 'POST', '/resource-servers', body);
  if (r.status !== 201) throw new Error(`create resource server: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Whether /oauth/token knows a grant type (an unknown one answers 400 `unsupported_grant_type`). */
export async function grantSupported(target: Target, grantType: string): Promise<boolean> {
  if (target.skipReason || target.failReason) return false;
  const r = await tokenRequest(target, { grant_type: grantType, client_id: target.adminClientId, client_secret: target.adminClientSecret });
  return r.body?.error !== 'unsupported_grant_type';
}

export const PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';
export const DEFAULT_CONNECTION = 'Username-Password-Authentication';

/**
 * User-flow fixture (written against the contract; used once users and user grants exist): an API that allows
 * offline access, a regular web app allowed `grant_types`, and a database user.
 */
export async function userFlowFixture(target: Target, tag: string, grantTypes: string[], extra: Record<string, unknown> = {}) {
  const audience = `https://${tag}.users.example.test/`;
  await apiFixture(target, { identifier: audience, allow_offline_access: true, token_dialect: 'rfc9068_profile_authz', enforce_policies: true, scopes: [{ value: 'read:orders' }] });
  const c = await mgmt(target, 'POST', '/clients', { name: `${tag} web`, app_type: 'regular_web', grant_types: grantTypes, token_endpoint_auth_method: 'client_secret_post', ...extra });
  if (c.status !== 201) throw new Error(`create client: ${c.status} ${JSON.stringify(c.body)}`);
  const username = `${tag}@example.test`;
  const password = `Compat-${tag}-Passw0rd!`;
  const u = await mgmt(target, 'POST', '/users', { connection: DEFAULT_CONNECTION, email: username, password });
  if (u.status !== 201) throw new Error(`create user: ${u.status} ${JSON.stringify(u.body)}`);
  return { audience, clientId: c.body.client_id as string, clientSecret: c.body.client_secret as string, username, password, userId: u.body.user_id as string };
}
