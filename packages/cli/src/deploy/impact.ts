import { ApiCallError, enc, type ManagementClient } from './mgmt-client';
import type { Change, Permission, Plan } from './plan-types';
import type { Json, LiveState } from './types';

/** One client, or one user through one client, whose tokens for one API would change. */
export interface ImpactRow {
  subject: 'client' | 'user';
  client_id: string;
  client: string;
  user_id?: string;
  audience: string;
  gains: string[];
  loses: string[];
}

export interface Impact { rows: ImpactRow[]; notes: string[] }

interface Assume {
  resource_servers: Json[];
  clients: Json[];
  client_grants: Json[];
  roles: Array<{ id: string; permissions: Permission[] }>;
}

const RS_DECISION_FIELDS = ['scopes', 'enforce_policies', 'token_dialect', 'subject_type_authorization', 'allow_offline_access', 'skip_consent_for_verifiable_first_party_clients', 'token_lifetime', 'token_lifetime_for_web'];
const GRANT_FIELDS = ['scope', 'allow_all_scopes', 'organization_usage', 'allow_any_organization'];
/** Users looked at per role (their tokens are explained one by one). */
const USERS_PER_ROLE = 50;

const pick = (o: Json | undefined, keys: string[]): Json => Object.fromEntries(keys.filter((k) => o?.[k] !== undefined && o[k] !== null).map((k) => [k, o![k]]));
const permKey = (p: Permission) => `${p.resource_server_identifier}|${p.permission_name}`;

/**
 * `tessera plan`'s token impact: which clients (client_credentials) and which users (a login through each client
 * with a user grant) would gain or lose which scopes of which API. Both sides are the server's own answer
 * (`POST /api/v2/tessera/explain`): today's configuration, and the same with the plan's changes assumed.
 * undefined when the plan changes nothing a token depends on.
 */
export async function tokenImpact(api: ManagementClient, live: LiveState, plan: Plan): Promise<Impact | undefined> {
  const relevant = plan.changes.filter((c) => c.kind !== 'Client' || c.fields.some((f) => f.field === 'is_first_party' || f.field === 'grant_types'));
  if (relevant.length === 0) return undefined;
  const notes: string[] = [];
  const assume = assumptions(live, relevant, notes);
  const audiences = affectedAudiences(live, assume);
  const grants = [...live.grants.filter((g) => !g.is_system && g.client_id !== undefined), ...assume.client_grants];
  const names = new Map(live.clients.map((c) => [String(c.client_id), String(c.name)]));
  const rows: ImpactRow[] = [];
  const explain = async (body: Json, withAssume: boolean): Promise<Set<string>> => {
    const ex = await api.request<Json>('POST', '/tessera/explain', withAssume ? { ...body, assume } : body);
    return new Set(ex.issued === true && typeof ex.scope === 'string' ? ex.scope.split(' ').filter(Boolean) : []);
  };
  const compare = async (row: Omit<ImpactRow, 'gains' | 'loses'>, body: Json) => {
    const [before, after] = [await explain(body, false), await explain(body, true)];
    const gains = [...after].filter((s) => !before.has(s)).sort();
    const loses = [...before].filter((s) => !after.has(s)).sort();
    if (gains.length || loses.length) rows.push({ ...row, gains, loses });
  };
  try {
    for (const audience of audiences) {
      const clientIds = (type: string) => [...new Set(grants.filter((g) => g.audience === audience && (g.subject_type ?? 'client') === type).map((g) => String(g.client_id)))]
        .filter((id) => names.has(id) && id !== live.selfClientId);
      for (const clientId of clientIds('client')) {
        await compare({ subject: 'client', client_id: clientId, client: names.get(clientId)!, audience }, { client_id: clientId, audience, grant_type: 'client_credentials' });
      }
      const userClients = clientIds('user');
      if (userClients.length === 0) continue;
      const scope = scopesOf(live, assume, audience).join(' ');
      if (!scope) continue;
      for (const userId of await usersOf(api, live, assume, audience, notes)) {
        for (const clientId of userClients) {
          await compare({ subject: 'user', client_id: clientId, client: names.get(clientId)!, user_id: userId, audience }, { client_id: clientId, user_id: userId, audience, scope, grant_type: 'authorization_code' });
        }
      }
    }
  } catch (e) {
    if (e instanceof ApiCallError && (e.status === 404 || e.status === 403 || e.status === 501)) {
      return { rows: [], notes: [`token impact not computed: the target answered ${e.status} to POST /api/v2/tessera/explain (a Tessera server and the read:tessera_explain scope are needed)`] };
    }
    throw e;
  }
  return { rows, notes };
}

/** The plan's changes as explain's assumptions (resources that do not exist yet have no tokens to compare). */
function assumptions(live: LiveState, changes: Change[], notes: string[]): Assume {
  const a: Assume = { resource_servers: [], clients: [], client_grants: [], roles: [] };
  const grantById = new Map(live.grants.map((g) => [String(g.id), g]));
  for (const c of changes) {
    if (c.kind === 'ResourceServer') {
      if (c.action === 'delete') a.resource_servers.push({ identifier: c.key, deleted: true });
      else a.resource_servers.push({ identifier: c.key, ...pick(c.body, RS_DECISION_FIELDS) });
      if (c.move) {
        a.resource_servers.push({ identifier: c.move.oldIdentifier, deleted: true });
        for (const g of c.move.grants) a.client_grants.push({ client_id: g.body.client_id, audience: c.key, subject_type: g.body.subject_type ?? 'client', ...pick(g.body, GRANT_FIELDS) });
        for (const r of c.move.roles) a.roles.push({ id: r.id, permissions: rolePermissions(live, r.id, r.add, r.remove) });
      }
    } else if (c.kind === 'Client') {
      if (c.id !== undefined && c.action === 'update') a.clients.push({ client_id: c.id, ...pick(c.body, ['is_first_party', 'grant_types']) });
    } else if (c.kind === 'ClientGrant') {
      const current = c.id === undefined ? undefined : grantById.get(c.id);
      const clientId = c.grant?.clientId ?? current?.client_id;
      if (clientId === undefined) { notes.push(`${c.key}: the client does not exist yet; its tokens are not compared`); continue; }
      const where = { client_id: clientId, audience: c.grant?.audience ?? current?.audience, subject_type: c.grant?.subjectType ?? current?.subject_type ?? 'client' };
      a.client_grants.push(c.action === 'delete' ? { ...where, deleted: true } : { ...where, ...pick(c.body, GRANT_FIELDS) });
    } else if (c.kind === 'Role' && c.id !== undefined) {
      a.roles.push({ id: c.id, permissions: c.action === 'delete' ? [] : rolePermissions(live, c.id, c.permissions?.add ?? [], c.permissions?.remove ?? []) });
    }
  }
  return a;
}

function rolePermissions(live: LiveState, roleId: string, add: Permission[], remove: Permission[]): Permission[] {
  const gone = new Set(remove.map(permKey));
  const current = live.roles?.find((r) => r.id === roleId)?.permissions ?? [];
  return [...current.filter((p) => !gone.has(permKey(p))), ...add];
}

/** APIs whose tokens may change: changed APIs, audiences of changed grants and role permissions, grants of changed clients. */
function affectedAudiences(live: LiveState, a: Assume): string[] {
  const out = new Set<string>();
  for (const r of a.resource_servers) out.add(String(r.identifier));
  for (const g of a.client_grants) out.add(String(g.audience));
  for (const r of a.roles) {
    const before = live.roles?.find((x) => x.id === r.id)?.permissions ?? [];
    for (const p of [...before, ...r.permissions]) out.add(p.resource_server_identifier);
  }
  for (const c of a.clients) for (const g of live.grants) if (g.client_id === c.client_id) out.add(String(g.audience));
  const system = new Set(live.resourceServers.filter((r) => r.is_system).map((r) => String(r.identifier)));
  const deleted = new Set(a.resource_servers.filter((r) => r.deleted).map((r) => String(r.identifier)));
  return [...out].filter((x) => !system.has(x) || deleted.has(x)).sort();
}

/** Every scope the API defines today or will define: what a user's login asks for. */
function scopesOf(live: LiveState, a: Assume, audience: string): string[] {
  const lists = [live.resourceServers.find((r) => r.identifier === audience)?.scopes, a.resource_servers.find((r) => r.identifier === audience)?.scopes];
  return [...new Set(lists.flatMap((l) => ((l as Array<{ value: string }> | undefined) ?? []).map((s) => s.value)))];
}

/** Users holding a role with permissions on the API (today or as planned). */
async function usersOf(api: ManagementClient, live: LiveState, a: Assume, audience: string, notes: string[]): Promise<string[]> {
  const roles = new Set<string>();
  for (const r of live.roles ?? []) if (r.permissions.some((p) => p.resource_server_identifier === audience)) roles.add(r.id);
  for (const r of a.roles) if (r.permissions.some((p) => p.resource_server_identifier === audience)) roles.add(r.id);
  const users = new Set<string>();
  for (const id of roles) {
    const holders = (await api.request<Json[]>('GET', `/roles/${enc(id)}/users?per_page=${USERS_PER_ROLE}`)).map((u) => String(u.user_id));
    if (holders.length >= USERS_PER_ROLE) notes.push(`role ${live.roles?.find((r) => r.id === id)?.name ?? id}: only its first ${USERS_PER_ROLE} users are compared`);
    for (const u of holders) users.add(u);
  }
  return [...users];
}

/** The text section of `tessera plan`: shown when some client or user gains or loses a scope. */
export function renderImpact(impact: Impact | undefined): string {
  if (!impact?.rows.length) return '';
  const lines = ['', 'Token impact (the server\'s explain, today and as planned):'];
  for (const r of impact.rows) {
    const who = r.subject === 'client' ? `client ${r.client} (${r.client_id})` : `user ${r.user_id} through ${r.client} (${r.client_id})`;
    const what = [r.gains.length ? `gains ${r.gains.join(' ')}` : '', r.loses.length ? `loses ${r.loses.join(' ')}` : ''].filter(Boolean).join('; ');
    lines.push(`  ${who} → ${r.audience}: ${what}`);
  }
  for (const n of impact.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}
