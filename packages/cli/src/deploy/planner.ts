import { diffClient, diffGrant, grantCreateBody } from './plan-clients';
import { createBody, diffResourceServer, wireValue, type Thumbprints } from './plan-resource-servers';
import type { Change, Move, Permission, Plan } from './plan-types';
import type { ClientGrantRes, ClientRes, Json, LiveState, Resource, ResourceServerRes } from './types';
import { planRoles } from './plan-roles';

export interface PlanOptions {
  prune: boolean;
  /** Identifiers the target refuses (its Management API audience, /userinfo, …), known from its origin. */
  reserved?: string[];
}

/** Pure: manifests + live state → the changes that make the target match (nothing is called here). */
export function plan(resources: Resource[], live: LiveState, opts: PlanOptions, tp: Thumbprints): Plan {
  const p: Plan = { changes: [], unchanged: [], blocked: [], notes: [] };
  const of = <K extends Resource['kind']>(k: K) => resources.filter((r) => r.kind === k) as Array<Extract<Resource, { kind: K }>>;
  // A working copy of the live state: replaces re-point grants and permissions in it, as apply will.
  const view = { grants: live.grants.map((g) => ({ ...g })), roles: live.roles?.map((r) => ({ ...r, permissions: [...r.permissions] })) };
  const claimed = planResourceServers(of('ResourceServer'), live, view, tp, p, opts.reserved ?? []);
  const clientIds = planClients(of('Client'), live, opts, p);
  planGrants(of('ClientGrant'), live, view.grants, clientIds, new Set([...live.resourceServers.map((r) => String(r.identifier)), ...of('ResourceServer').map((r) => r.spec.identifier)]), opts, p);
  planRoles(of('Role'), view.roles, opts, p);
  if (opts.prune && of('ResourceServer').length) {
    for (const rs of live.resourceServers) {
      if (rs.is_system || claimed.has(String(rs.id))) continue;
      p.changes.push({ action: 'delete', kind: 'ResourceServer', name: slug(String(rs.name ?? rs.identifier)), key: String(rs.identifier), id: String(rs.id), fields: [] });
    }
  }
  return p;
}

type View = { grants: Json[]; roles?: LiveState['roles'] };

function planResourceServers(wanted: ResourceServerRes[], live: LiveState, view: View, tp: Thumbprints, p: Plan, reserved: string[]): Set<string> {
  const claimed = new Set<string>();
  const byIdentifier = new Map(live.resourceServers.map((r) => [String(r.identifier), r]));
  const declared = new Set(wanted.map((r) => r.spec.identifier));
  for (const r of wanted) {
    const key = r.spec.identifier;
    const current = byIdentifier.get(key);
    if (current?.is_system) { p.blocked.push(`${r.source.file}: ${key} is a system API and cannot be managed`); continue; }
    if (reserved.includes(key)) { p.blocked.push(`${r.source.file}: ResourceServer ${r.name}: ${key} is reserved on the target and cannot be an API identifier`); continue; }
    const onlyThumbprint = r.spec.token_encryption && r.spec.token_encryption.encryption_key.pem === undefined;
    if (current) {
      claimed.add(String(current.id));
      if (!createdFrom(r, current)) {
        p.notes.push(`ResourceServer ${r.name} adopts ${key} (id ${current.id}${current.name === undefined ? ', no name' : `, name "${current.name}"`}): an existing API these manifests did not create (its name is neither spec.name nor metadata.name); from now on they manage it`);
      }
      const fields = diffResourceServer(r.spec, current, tp);
      if (fields.some((f) => f.field === 'token_encryption') && onlyThumbprint) {
        p.blocked.push(`${r.source.file}: ResourceServer ${r.name}: token_encryption differs from the server and the manifest has no pem to send`);
      }
      if (fields.length === 0) { p.unchanged.push({ kind: 'ResourceServer', name: r.name, key }); continue; }
      const body = Object.fromEntries(fields.map((f) => [f.field, wireValue(f.field, r.spec, tp)]));
      p.changes.push({ action: 'update', kind: 'ResourceServer', name: r.name, key, id: String(current.id), fields, body });
      continue;
    }
    if (onlyThumbprint) p.blocked.push(`${r.source.file}: ResourceServer ${r.name}: token_encryption needs a pem to create the API`);
    const old = replacedBy(r, live, declared, claimed);
    if (old) {
      claimed.add(String(old.id));
      const fields = [{ field: 'identifier', before: old.identifier, after: key }, ...diffResourceServer(r.spec, old, tp)];
      const move = moveFor(old, r, view);
      p.notes.push(...move.dropped.map((d) => `replace ${old.identifier} → ${key}: ${d} is not defined on the new API and is not carried over`));
      p.changes.push({ action: 'replace', kind: 'ResourceServer', name: r.name, key, id: String(old.id), fields, body: createBody(r.spec, tp, r.name), move });
      continue;
    }
    const body = createBody(r.spec, tp, r.name);
    p.changes.push({ action: 'create', kind: 'ResourceServer', name: r.name, key, fields: Object.entries(body).map(([field, after]) => ({ field, before: null, after, ...(field === 'signing_secret' && { sensitive: true }) })), body });
  }
  return claimed;
}

/**
 * Whether a live API carries the name a manifest gives the APIs it creates: spec.name, or metadata.name when the
 * manifest has none (as Project Planton does); a nameless API matches the name export and import derive from it.
 */
function createdFrom(r: ResourceServerRes, live: Json): boolean {
  if (live.name === undefined) return slug(String(live.identifier)) === r.name;
  const name = String(live.name);
  return name === (r.spec.name ?? r.name) || name === r.name || slug(name) === r.name;
}

/**
 * The live API a manifest replaces: `metadata.replaces`, or the undeclared API with the same display name; for a
 * manifest without spec.name, the undeclared API created from the same metadata.name.
 */
function replacedBy(r: ResourceServerRes, live: LiveState, declared: Set<string>, claimed: Set<string>): Json | undefined {
  const candidates = live.resourceServers.filter((x) => !x.is_system && !claimed.has(String(x.id)) && !declared.has(String(x.identifier)));
  if (r.replaces) return candidates.find((x) => x.identifier === r.replaces);
  const named = candidates.filter((x) => (r.spec.name === undefined ? createdFrom(r, x) : x.name === r.spec.name));
  return named.length === 1 ? named[0] : undefined;
}

/** Re-points grants and role permissions of the old API to the new identifier (in the plan's view, and as steps). */
function moveFor(old: Json, r: ResourceServerRes, view: View): Move {
  const scopes = new Set((r.spec.scopes ?? []).map((s) => s.value));
  const move: Move = { oldId: String(old.id), oldIdentifier: String(old.identifier), grants: [], roles: [], dropped: [] };
  for (const g of view.grants) {
    if (g.audience !== old.identifier || g.is_system) continue;
    const kept = ((g.scope as string[] | undefined) ?? []).filter((s) => scopes.has(s));
    for (const s of (g.scope as string[] | undefined) ?? []) if (!scopes.has(s)) move.dropped.push(`scope ${s} of the grant to ${g.client_id}`);
    const body: Json = { ...g, audience: r.spec.identifier, ...(g.allow_all_scopes ? {} : { scope: kept }) };
    for (const k of ['id', 'is_system']) delete body[k];
    move.grants.push({ id: String(g.id), body });
    Object.assign(g, body, { id: undefined, moved: true });
  }
  for (const role of view.roles ?? []) {
    const remove = role.permissions.filter((x) => x.resource_server_identifier === old.identifier);
    if (!remove.length) continue;
    const add: Permission[] = [];
    for (const x of remove) {
      if (scopes.has(x.permission_name)) add.push({ resource_server_identifier: r.spec.identifier, permission_name: x.permission_name });
      else move.dropped.push(`permission ${x.permission_name} of role ${role.name}`);
    }
    move.roles.push({ id: role.id, name: role.name, add, remove });
    role.permissions = [...role.permissions.filter((x) => x.resource_server_identifier !== old.identifier), ...add];
  }
  return move;
}

/** Clients by name (the tool's own client is never touched). Returns name → known client_id. */
function planClients(wanted: ClientRes[], live: LiveState, opts: PlanOptions, p: Plan): Map<string, string | undefined> {
  const ids = new Map<string, string | undefined>();
  const others = live.clients.filter((c) => c.client_id !== live.selfClientId);
  const matched = new Set<string>();
  for (const c of others) if (!ids.has(String(c.name))) ids.set(String(c.name), String(c.client_id));
  for (const r of wanted) {
    const key = r.spec.name;
    const same = others.filter((c) => c.name === key);
    if (same.length > 1) { p.blocked.push(`${r.source.file}: ${same.length} clients are named "${key}" on the target; rename all but one`); continue; }
    const current = same[0];
    if (!current) {
      ids.set(key, undefined);
      p.changes.push({ action: 'create', kind: 'Client', name: r.name, key, fields: Object.entries(r.spec).map(([field, after]) => ({ field, before: null, after })), body: { ...r.spec } });
      continue;
    }
    matched.add(String(current.client_id));
    const fields = diffClient(r.spec, current);
    if (!fields.length) { p.unchanged.push({ kind: 'Client', name: r.name, key }); continue; }
    p.changes.push({ action: 'update', kind: 'Client', name: r.name, key, id: String(current.client_id), fields, body: Object.fromEntries(fields.map((f) => [f.field, (r.spec as Json)[f.field]])) });
  }
  if (opts.prune && wanted.length) {
    for (const c of others) {
      if (matched.has(String(c.client_id))) continue;
      p.changes.push({ action: 'delete', kind: 'Client', name: slug(String(c.name)), key: String(c.name), id: String(c.client_id), fields: [] });
    }
  }
  return ids;
}

function planGrants(wanted: ClientGrantRes[], live: LiveState, grants: Json[], clientIds: Map<string, string | undefined>, audiences: Set<string>, opts: PlanOptions, p: Plan): void {
  const liveClientIds = new Set(live.clients.map((c) => String(c.client_id)));
  const matched = new Set<Json>();
  for (const r of wanted) {
    const s = r.spec;
    const subjectType = s.subject_type ?? 'client';
    const clientId = clientIds.has(s.client) ? clientIds.get(s.client) : liveClientIds.has(s.client) ? s.client : null;
    if (clientId === null) { p.blocked.push(`${r.source.file}: ClientGrant ${r.name}: no client named "${s.client}" in the manifests or on the target`); continue; }
    if (!audiences.has(s.audience)) { p.blocked.push(`${r.source.file}: ClientGrant ${r.name}: no API with identifier ${s.audience} in the manifests or on the target`); continue; }
    const key = `${s.client} → ${s.audience}${subjectType === 'client' ? '' : ` (${subjectType})`}`;
    const grant = { client: s.client, clientId, audience: s.audience, subjectType };
    const current = clientId === undefined ? undefined : grants.find((g) => g.client_id === clientId && g.audience === s.audience && (g.subject_type ?? 'client') === subjectType);
    if (!current) {
      const body = grantCreateBody(s, clientId);
      p.changes.push({ action: 'create', kind: 'ClientGrant', name: r.name, key, grant, fields: Object.entries(body).filter(([k]) => k !== 'client_id').map(([field, after]) => ({ field, before: null, after })), body });
      continue;
    }
    matched.add(current);
    const { fields, body } = diffGrant(s, current);
    if (!fields.length) { p.unchanged.push({ kind: 'ClientGrant', name: r.name, key }); continue; }
    p.changes.push({ action: 'update', kind: 'ClientGrant', name: r.name, key, ...(current.id ? { id: String(current.id) } : {}), grant, fields, body });
  }
  if (opts.prune && wanted.length) {
    const names = new Map(live.clients.map((c) => [String(c.client_id), String(c.name)]));
    for (const g of grants) {
      if (matched.has(g) || g.is_system || g.client_id === live.selfClientId || !g.id || g.client_id === undefined) continue;
      const client = names.get(String(g.client_id)) ?? String(g.client_id);
      p.changes.push({ action: 'delete', kind: 'ClientGrant', name: slug(`${client}-${g.audience}`), key: `${client} → ${g.audience}`, id: String(g.id), fields: [] });
    }
  }
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'unnamed';
}

