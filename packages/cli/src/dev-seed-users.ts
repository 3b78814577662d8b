import { readFileSync } from 'node:fs';
import { parse, replaceKeywords, type Keywords } from './dev-a0deploy';
import { omit, setPermissions, type Touched, type Written } from './dev-seed-tenant';
import { enc, type ManagementClient } from './deploy/mgmt-client';
import { DeployError, type Json } from './deploy/types';

/** Fields of a seed user that are not a POST /api/v2/users body: they are applied with their own calls. */
const LINKS = ['roles', 'permissions', 'organizations'];
const CREATE_ONLY = ['user_id', 'connection'];

/** A user as a seeding run last applied it: the file's entry (as JSON) and the user's id. */
export interface AppliedUser { fingerprint: string; id: string }

export interface SeedUser { email: string; password: string; body: Json; roles?: string[]; permissions?: Json[]; organizations?: Array<{ name: string; roles?: string[] }> }

/**
 * A users file: a JSON array (or `{ "users": [...] }`) of POST /api/v2/users bodies with plain passwords, plus
 * `roles` (role names), `permissions` (as the permissions API takes them) and `organizations` (names, or
 * `{ name, roles }` for roles within the organization). The connection defaults to the database connection.
 */
export function loadUsers(file: string, keywords: Keywords): SeedUser[] {
  const doc = parse(file, replaceKeywords(readFileSync(file, 'utf8'), keywords, file));
  const list = Array.isArray(doc) ? doc : (doc as Json | null)?.users;
  if (!Array.isArray(list)) throw new DeployError(`${file}: expected a JSON array of users, or { "users": [...] }`);
  return list.map((u: unknown, i) => {
    const at = `${file}: users[${i}]`;
    if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new DeployError(`${at}: expected an object`);
    const o = u as Json;
    if (typeof o.email !== 'string' || typeof o.password !== 'string') throw new DeployError(`${at}: email and password (plain text) are required`);
    const names = (v: unknown, what: string): string[] | undefined => {
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new DeployError(`${at}.${what}: expected a list of names`);
      return v as string[];
    };
    const orgs = o.organizations === undefined ? undefined : (Array.isArray(o.organizations) ? o.organizations : [null]).map((x, j) => {
      if (typeof x === 'string') return { name: x };
      if (x && typeof x === 'object' && typeof (x as Json).name === 'string') return { name: (x as Json).name as string, roles: names((x as Json).roles, `organizations[${j}].roles`) };
      throw new DeployError(`${at}.organizations: expected organization names or { "name", "roles" } objects`);
    });
    if (o.permissions !== undefined && !Array.isArray(o.permissions)) throw new DeployError(`${at}.permissions: expected a list`);
    return { email: o.email, password: o.password, body: omit(o, LINKS), roles: names(o.roles, 'roles'), permissions: o.permissions as Json[] | undefined, organizations: orgs };
  });
}

/**
 * Creates or updates each user (matched by email), then makes its roles, permissions and organization memberships
 * what the file says. `applied` remembers each user's entry as last applied, and its user_id: an unchanged entry is
 * skipped on a re-seed (no password hashing, no sessions ended). Every user of the file is added to `touched`.
 */
export async function applyUsers(api: ManagementClient, users: SeedUser[], applied: Map<string, AppliedUser>, touched: Touched): Promise<Written> {
  const w: Written = { created: 0, updated: 0 };
  const roles = users.some((u) => u.roles?.length || u.organizations?.some((o) => o.roles?.length)) ? await api.listAll('/roles', 'roles') : [];
  const orgs = users.some((u) => u.organizations) ? await api.listAll('/organizations', 'organizations') : [];
  const roleId = (name: string) => {
    const r = roles.find((x) => x.name === name);
    if (!r) throw new DeployError(`no role named ${name} (seed roles before users that hold them)`);
    return String(r.id);
  };
  for (const u of users) {
    const fingerprint = JSON.stringify(u);
    const last = applied.get(u.email.toLowerCase());
    if (last?.fingerprint === fingerprint) { touched.users.add(last.id); continue; }
    const found = await api.request<Json[]>('GET', `/users-by-email?email=${enc(u.email)}`);
    let id: string;
    if (found.length) {
      id = String(found[0].user_id);
      await api.request('PATCH', `/users/${enc(id)}`, omit(u.body, [...CREATE_ONLY, 'email']));
      w.updated++;
    } else {
      id = String((await api.request('POST', '/users', { connection: 'Username-Password-Authentication', ...u.body })).user_id);
      w.created++;
    }
    if (u.roles) await setRoles(api, `/users/${enc(id)}/roles`, u.roles.map(roleId));
    if (u.permissions) await setPermissions(api, `/users/${enc(id)}/permissions`, u.permissions);
    for (const o of u.organizations ?? []) {
      const org = orgs.find((x) => x.name === o.name);
      if (!org) throw new DeployError(`user ${u.email}: no organization named ${o.name}`);
      await api.request('POST', `/organizations/${enc(String(org.id))}/members`, { members: [id] });
      if (o.roles) await setRoles(api, `/organizations/${enc(String(org.id))}/members/${enc(id)}/roles`, o.roles.map(roleId));
    }
    applied.set(u.email.toLowerCase(), { fingerprint, id });
    touched.users.add(id);
  }
  return w;
}

async function setRoles(api: ManagementClient, path: string, want: string[]): Promise<void> {
  const have = (await api.listAll(path, 'roles')).map((r) => String(r.id));
  const remove = have.filter((r) => !want.includes(r));
  const add = want.filter((r) => !have.includes(r));
  if (remove.length) await api.request('DELETE', path, { roles: remove });
  if (add.length) await api.request('POST', path, { roles: add });
}
