// auth0-deploy-cli (`a0deploy`) 8.44.0, unchanged, round-tripping a tenant with organizations on the suite's
// shared servers: import a YAML tenant (an API with scopes, two clients, a client grant, tenant roles with
// permissions, two organizations with the database connection, metadata, branding, a token quota and an
// organization client grant); add what a0deploy does not manage through the Management API (users with
// caller-chosen ids and usernames, tenant roles of users, members, member roles, a role owned by an
// organization); export; import the export again; export once more.
//
// a0deploy has no handler for users, organization members or member roles (lib/tools/auth0/handlers has none),
// and it lists roles with `type=tenant` only; so the round trip checks that it carries everything it manages
// and leaves the rest alone. Each a0deploy run costs tens of seconds of CPU, so the runs are collected by one
// pipeline per dialect started before the first test (both dialects at once, one core each) and the tests
// assert on its steps in order. The shared servers also hold other suites' objects: everything here is named
// "Roundtrip…" / "roundtrip-…" and only those objects are compared.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { caCertFile, forEachTarget, workDir, type Target } from './setup/targets';
import { DEFAULT_CONNECTION, mgmt, tokenRequest } from './setup/http';
import { a0deploy, FIXTURES } from './setup/deploy-cli';

const STEP_TIMEOUT = 1_200_000; // one a0deploy import took 9 minutes of wall time (1 minute of CPU) on an overloaded two-core machine
const FIXTURE = join(FIXTURES, 'tenant-organizations.yaml');
const INCLUDED = ['resourceServers', 'clients', 'clientGrants', 'roles', 'organizations'];
const API = 'https://projects.roundtrip.example.test/';
const PASSWORD = 'Roundtrip-Passw0rd!';

type Doc = Record<'resourceServers' | 'clients' | 'clientGrants' | 'roles' | 'organizations', Array<Record<string, any>>>;
const mine = (name: unknown) => typeof name === 'string' && /^(Roundtrip |roundtrip-)/.test(name);

/** The fixture's objects out of an a0deploy document (the shared tenant holds other suites' objects too). */
function onlyMine(doc: Partial<Doc>): Doc {
  return {
    resourceServers: (doc.resourceServers ?? []).filter((r) => mine(r.name)),
    clients: (doc.clients ?? []).filter((c) => mine(c.name)),
    clientGrants: (doc.clientGrants ?? []).filter((g) => mine(g.client_id)),
    roles: (doc.roles ?? []).filter((r) => mine(r.name)),
    organizations: (doc.organizations ?? []).filter((o) => mine(o.name)),
  };
}

async function ok(target: Target, method: string, path: string, body?: unknown, status = method === 'POST' ? [200, 201, 204] : [200, 204]) {
  const r = await mgmt(target, method, path, body);
  if (!status.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Everything the Management API says about the fixture's objects, users, members and roles included. */
async function snapshot(target: Target) {
  const rs = (await ok(target, 'GET', '/resource-servers')).filter((r: any) => mine(r.name));
  const clients = (await ok(target, 'GET', '/clients')).filter((c: any) => mine(c.name));
  const ids = new Set(clients.map((c: any) => c.client_id));
  const grants = (await ok(target, 'GET', '/client-grants')).filter((g: any) => ids.has(g.client_id));
  const roles = (await ok(target, 'GET', '/roles')).filter((r: any) => mine(r.name));
  for (const role of roles) {
    role.permissions = await ok(target, 'GET', `/roles/${role.id}/permissions`);
    role.users = (await ok(target, 'GET', `/roles/${role.id}/users`)).map((u: any) => u.user_id).sort();
  }
  const organizations = (await ok(target, 'GET', '/organizations')).filter((o: any) => mine(o.name));
  for (const org of organizations) {
    org.connections = await ok(target, 'GET', `/organizations/${org.id}/enabled_connections`);
    org.client_grants = await ok(target, 'GET', `/organizations/${org.id}/client-grants`);
    org.members = await ok(target, 'GET', `/organizations/${org.id}/members`);
    for (const m of org.members) m.roles = await ok(target, 'GET', `/organizations/${org.id}/members/${encodeURIComponent(m.user_id)}/roles`);
  }
  const users = await ok(target, 'GET', `/users?q=${encodeURIComponent('email.domain:roundtrip.example.test')}&sort=email:1`);
  for (const u of users) {
    u.roles = await ok(target, 'GET', `/users/${encodeURIComponent(u.user_id)}/roles`);
    u.permissions = await ok(target, 'GET', `/users/${encodeURIComponent(u.user_id)}/permissions`);
  }
  return { rs, clients, grants, roles, organizations, users };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Users, tenant roles of users, members and member roles: what a0deploy does not manage. */
async function addPeople(target: Target, s: Snapshot) {
  const role = (name: string) => s.roles.find((r: any) => r.name === name).id;
  const org = (name: string) => s.organizations.find((o: any) => o.name === name).id;
  const acme = org('roundtrip-acme');
  const globex = org('roundtrip-globex');
  // a caller-chosen id and a username, as the Terraform provider sends them
  const ann = await ok(target, 'POST', '/users', { connection: DEFAULT_CONNECTION, user_id: 'roundtrip-ann', username: 'roundtrip_ann', email: 'ann@roundtrip.example.test', password: PASSWORD });
  const bob = await ok(target, 'POST', '/users', { connection: DEFAULT_CONNECTION, email: 'bob@roundtrip.example.test', password: PASSWORD, name: 'Bob Roundtrip' });
  const auditor = await ok(target, 'POST', '/roles', { name: 'Roundtrip Acme Auditor', description: 'Audits Acme', type: 'organization', owner_id: acme });
  await ok(target, 'POST', `/roles/${auditor.id}/permissions`, { permissions: [{ resource_server_identifier: API, permission_name: 'admin:projects' }] });
  await ok(target, 'POST', `/users/${encodeURIComponent(ann.user_id)}/roles`, { roles: [role('Roundtrip Editor')] });
  await ok(target, 'POST', `/organizations/${acme}/members`, { members: [ann.user_id, bob.user_id] });
  await ok(target, 'POST', `/organizations/${globex}/members`, { members: [bob.user_id] });
  await ok(target, 'POST', `/organizations/${acme}/members/${encodeURIComponent(bob.user_id)}/roles`, { roles: [role('Roundtrip Viewer'), auditor.id] });
  await ok(target, 'POST', `/organizations/${globex}/members/${encodeURIComponent(bob.user_id)}/roles`, { roles: [role('Roundtrip Editor')] });
  return { ann: ann.user_id as string, bob: bob.user_id as string, acme, globex, auditor: auditor.id as string };
}

/** The Management operations (tenant log `sapi`/`fapi`) made between two instants, oldest first. */
async function operationsBetween(target: Target, from: string, to: string): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 1500)); // the tenant log is written in batches every 100 ms
  const q = `type:(sapi OR fapi) AND date:[${from} TO ${to}]`;
  const events = await ok(target, 'GET', `/logs?q=${encodeURIComponent(q)}&sort=date:1&per_page=100`);
  return events.map((e: any) => `${e.type} ${e.details.request.method} ${e.details.request.path}`);
}

async function orgToken(target: Target, s: Snapshot, organization: string) {
  const id = s.clients.find((c: any) => c.name === 'Roundtrip Sync Worker').client_id;
  const secret = (await ok(target, 'GET', `/clients/${id}`)).client_secret;
  return tokenRequest(target, { grant_type: 'client_credentials', client_id: id, client_secret: secret, audience: API, organization });
}

interface Pipeline {
  import1: Promise<{ out: string; state: Snapshot }>;
  people: Promise<{ ids: Awaited<ReturnType<typeof addPeople>>; state: Snapshot; acmeToken: any; globexToken: any }>;
  export1: Promise<{ raw: Partial<Doc>; doc: Doc }>;
  import2: Promise<{ out: string; state: Snapshot; operations: string[] }>;
  export2: Promise<{ doc: Doc }>;
  done(): Promise<void>;
}

function startPipeline(target: Target): Pipeline {
  const outDir = mkdtempSync(join(workDir(), `a0deploy-orgs-${target.dialect}-`));
  const run = async (args: string[]) => {
    const r = await a0deploy(target, args, { AUTH0_INCLUDED_ONLY: JSON.stringify(INCLUDED) }, caCertFile());
    if (r.code !== 0) throw new Error(`a0deploy ${args[0]} exited with ${r.code}:\n${r.out}`);
    return r.out;
  };
  const exportTo = async (name: string) => {
    const dir = join(outDir, name);
    await run(['export', '--format', 'yaml', '--output_folder', dir]);
    return parse(readFileSync(join(dir, 'tenant.yaml'), 'utf8')) as Partial<Doc>;
  };
  const import1 = (async () => {
    const out = await run(['import', '--input_file', FIXTURE]);
    return { out, state: await snapshot(target) };
  })();
  const people = import1.then(async ({ state: imported }) => {
    const ids = await addPeople(target, imported);
    const state = await snapshot(target);
    return { ids, state, acmeToken: await orgToken(target, state, ids.acme), globexToken: await orgToken(target, state, ids.globex) };
  });
  const export1 = people.then(async () => {
    const raw = await exportTo('export-1');
    return { raw, doc: onlyMine(raw) };
  });
  const import2 = export1.then(async ({ doc }) => {
    const file = join(outDir, 'reimport.yaml');
    writeFileSync(file, stringify(doc));
    const from = new Date().toISOString();
    const out = await run(['import', '--input_file', file]);
    const to = new Date().toISOString();
    return { out, state: await snapshot(target), operations: await operationsBetween(target, from, to) };
  });
  const export2 = import2.then(async () => ({ doc: onlyMine(await exportTo('export-2')) }));
  for (const p of [import1, people, export1, import2, export2]) p.catch(() => undefined); // asserted by the tests
  return { import1, people, export1, import2, export2, done: async () => { await export2.catch(() => undefined); } };
}

const fixture = parse(readFileSync(FIXTURE, 'utf8')) as Doc;
const pipelines = new Map<string, Pipeline>();
beforeAll(() => {
  for (const t of inject('compatTargets')) if (!t.skipReason && !t.failReason) pipelines.set(t.dialect, startPipeline(t));
});
afterAll(async () => { await Promise.all([...pipelines.values()].map((p) => p.done())); }, 4 * STEP_TIMEOUT);

const perm = (p: any) => `${p.resource_server_identifier} ${p.permission_name}`;
const byName = <T extends Record<string, any>>(list: T[], name: string, key = 'name'): T => {
  const found = list.find((x) => x[key] === name);
  if (!found) throw new Error(`${name} is missing from ${JSON.stringify(list.map((x) => x[key]))}`);
  return found;
};

forEachTarget('auth0-deploy-cli (a0deploy) organizations round trip', (target) => {
  const p = () => pipelines.get(target.dialect) as Pipeline;

  describe('import of the YAML tenant', () => {
    it('creates the API with its scopes, both clients and the client grant as in the YAML', async () => {
      const { state } = await p().import1;
      expect(state.rs).toHaveLength(1);
      expect(state.rs[0]).toMatchObject(fixture.resourceServers[0]);
      expect(state.clients.map((c: any) => c.name).sort()).toEqual(fixture.clients.map((c) => c.name).sort());
      for (const want of fixture.clients) expect(byName(state.clients, want.name)).toMatchObject(want);
      const worker = byName(state.clients, 'Roundtrip Sync Worker');
      expect(state.grants).toHaveLength(1);
      expect(state.grants[0]).toMatchObject({ ...fixture.clientGrants[0], client_id: worker.client_id });
    }, STEP_TIMEOUT);

    it('creates the tenant roles with their permissions', async () => {
      const { state } = await p().import1;
      expect(state.roles.map((r: any) => r.name).sort()).toEqual(fixture.roles.map((r) => r.name).sort());
      for (const want of fixture.roles) {
        const got = byName(state.roles, want.name);
        expect(got).toMatchObject({ description: want.description, type: 'tenant' });
        expect(got.permissions.map(perm).sort()).toEqual(want.permissions.map(perm).sort());
      }
    }, STEP_TIMEOUT);

    it('creates the organizations with metadata, branding, token quota, the database connection and the client grant', async () => {
      const { state } = await p().import1;
      expect(state.organizations.map((o: any) => o.name).sort()).toEqual(['roundtrip-acme', 'roundtrip-globex']);
      for (const want of fixture.organizations) {
        const got = byName(state.organizations, want.name);
        const { connections, client_grants: _grants, ...fields } = want;
        expect(got).toMatchObject(fields);
        expect(got.connections).toEqual(connections.map(({ name, ...settings }: any) => ({
          ...settings, connection_id: expect.stringMatching(/^con_/), connection: { name, strategy: 'auth0' },
        })));
      }
      const grant = state.grants[0];
      expect(byName(state.organizations, 'roundtrip-acme').client_grants).toEqual([expect.objectContaining({ id: grant.id, client_id: grant.client_id, audience: API })]);
      expect(byName(state.organizations, 'roundtrip-globex').client_grants).toEqual([]);
    }, STEP_TIMEOUT);
  });

  describe('users, members and member roles added through the Management API', () => {
    it('exist as assigned: tenant roles of users, members of both organizations, member roles incl. an organization role', async () => {
      const { state, ids } = await p().people;
      const acme = byName(state.organizations, 'roundtrip-acme');
      const globex = byName(state.organizations, 'roundtrip-globex');
      expect(acme.members.map((m: any) => m.user_id).sort()).toEqual([ids.ann, ids.bob].sort());
      expect(globex.members.map((m: any) => m.user_id)).toEqual([ids.bob]);
      expect(byName(acme.members, ids.bob, 'user_id').roles.map((r: any) => r.name).sort()).toEqual(['Roundtrip Acme Auditor', 'Roundtrip Viewer']);
      expect(byName(acme.members, ids.ann, 'user_id').roles).toEqual([]);
      expect(byName(globex.members, ids.bob, 'user_id').roles.map((r: any) => r.name)).toEqual(['Roundtrip Editor']);
      const ann = byName(state.users, ids.ann, 'user_id');
      expect(ann).toMatchObject({ user_id: 'auth0|roundtrip-ann', username: 'roundtrip_ann' });
      expect(ann.roles.map((r: any) => r.name)).toEqual(['Roundtrip Editor']);
      expect(ann.permissions.map(perm).sort()).toEqual([`${API} read:projects`, `${API} write:projects`]);
      expect(byName(state.roles, 'Roundtrip Editor').users).toEqual([ids.ann]);
      expect(byName(state.roles, 'Roundtrip Acme Auditor')).toMatchObject({ type: 'organization', owner_id: ids.acme });
    }, STEP_TIMEOUT);

    it('the organization client grant is live: a token for acme carries org_id, globex is refused', async () => {
      const { acmeToken, globexToken, ids } = await p().people;
      expect(acmeToken.status).toBe(200);
      expect(decodeJwt(acmeToken.body.access_token)).toMatchObject({ org_id: ids.acme, scope: 'read:projects' });
      expect(globexToken.status).toBe(403);
      expect(globexToken.body.error).toBe('access_denied');
    }, STEP_TIMEOUT);
  });

  describe('export', () => {
    it('matches the imported YAML, with names instead of ids', async () => {
      const { doc } = await p().export1;
      expect(doc.resourceServers).toHaveLength(1);
      expect(doc.resourceServers[0]).toMatchObject(fixture.resourceServers[0]);
      expect(doc.clients.map((c) => c.name).sort()).toEqual(fixture.clients.map((c) => c.name).sort());
      for (const want of fixture.clients) expect(byName(doc.clients, want.name)).toMatchObject(want);
      expect(doc.clientGrants).toEqual([expect.objectContaining(fixture.clientGrants[0])]);
      expect(doc.roles.map((r) => r.name).sort()).toEqual(fixture.roles.map((r) => r.name).sort());
      for (const want of fixture.roles) {
        const got = byName(doc.roles, want.name);
        expect(got).toMatchObject({ description: want.description, type: 'tenant' });
        expect(got.permissions.map(perm).sort()).toEqual(want.permissions.map(perm).sort());
      }
      expect(doc.organizations.map((o) => o.name).sort()).toEqual(['roundtrip-acme', 'roundtrip-globex']);
      for (const want of fixture.organizations) {
        const { connections, client_grants: grants = [], ...fields } = want;
        const got = byName(doc.organizations, want.name);
        expect(got).toMatchObject(fields);
        expect(got.client_grants).toEqual(grants);
        expect(got.connections).toEqual(connections.map((c: any) => ({ ...c, is_enabled: true })));
      }
      for (const list of Object.values(doc)) for (const item of list) for (const k of ['id', 'client_id', 'connection_id']) {
        if (k !== 'client_id' || !('audience' in item)) expect(item[k], `${k} of ${item.name}`).toBeUndefined();
      }
    }, STEP_TIMEOUT);

    it('leaves out what a0deploy does not manage: the organization-owned role, users and members', async () => {
      const { raw } = await p().export1;
      expect((raw.roles ?? []).map((r) => r.name)).not.toContain('Roundtrip Acme Auditor');
      expect(Object.keys(raw).sort()).toEqual([...INCLUDED].sort());
      for (const org of onlyMine(raw).organizations) expect(org).not.toHaveProperty('members');
    }, STEP_TIMEOUT);
  });

  describe('importing the export again', () => {
    it('succeeds and creates nothing: only PATCHes and role permission replacements reach the server, organizations untouched', async () => {
      const { out, operations } = await p().import2;
      expect(out).not.toMatch(/Created \[|Deleted \[/);
      expect(operations.length).toBeGreaterThan(0);
      for (const op of operations) {
        expect(op).toMatch(/^sapi (PATCH \/api\/v2\/(resource-servers|clients|client-grants|roles)\/:id|(POST|DELETE) \/api\/v2\/roles\/:id\/permissions)$/);
      }
    }, STEP_TIMEOUT);

    it('changes nothing: every object, id, user, member, member role and role assignment is as before', async () => {
      const [{ state: before }, { state: after }] = [await p().people, await p().import2];
      const stable = (s: Snapshot) => ({ ...s, roles: s.roles.map((r: any) => ({ ...r, permissions: [...r.permissions].sort((a: any, b: any) => perm(a).localeCompare(perm(b))) })) });
      expect(stable(after)).toEqual(stable(before));
    }, STEP_TIMEOUT);

    it('a second export is identical to the first', async () => {
      const [{ doc: first }, { doc: second }] = [await p().export1, await p().export2];
      expect(second).toEqual(first);
    }, STEP_TIMEOUT);
  });
});
