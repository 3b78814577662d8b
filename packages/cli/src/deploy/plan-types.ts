import type { Kind } from './schema';
import type { Json } from './types';

export type Action = 'create' | 'update' | 'replace' | 'delete';

export interface FieldChange { field: string; before: unknown; after: unknown; sensitive?: boolean }
export interface Permission { resource_server_identifier: string; permission_name: string }

/** What a replace carries along from the old API: its grants and role permissions (seed 000's migration). */
export interface Move {
  oldId: string;
  oldIdentifier: string;
  grants: Array<{ id: string; body: Json }>;
  roles: Array<{ id: string; name: string; add: Permission[]; remove: Permission[] }>;
  /** Grant scopes / role permissions the new API does not define (not carried over). */
  dropped: string[];
}

export interface Change {
  action: Action;
  kind: Kind;
  /** metadata.name of the manifest (or a derived name for pruned resources). */
  name: string;
  /** The matching key: identifier, client name, "client → audience", role name. */
  key: string;
  /** Live id when the resource exists (client_id for clients). */
  id?: string;
  fields: FieldChange[];
  /** Request body: POST on create/replace, PATCH on update (wire field names). */
  body?: Json;
  move?: Move;
  /** ClientGrant: how to find the client and the grant at apply time. */
  grant?: { client: string; clientId?: string; audience: string; subjectType: string };
  /** Role: permission set changes. */
  permissions?: { add: Permission[]; remove: Permission[] };
}

export interface Plan {
  changes: Change[];
  unchanged: Array<{ kind: Kind; name: string; key: string }>;
  /** Problems that make the plan impossible (unknown client, system API, …). */
  blocked: string[];
  /** Non-fatal notes (e.g. scopes a replace cannot carry over). */
  notes: string[];
}

export const PHASE: Record<Kind, number> = { ResourceServer: 0, Client: 1, ClientGrant: 2, Role: 3 };

/** APIs → clients → grants → roles/permissions, then deletions in reverse (roles first, APIs last). */
export function ordered(changes: Change[]): Change[] {
  const rank = (c: Change) => (c.action === 'delete' ? 10 + (3 - PHASE[c.kind]) : PHASE[c.kind]);
  return changes.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

export const counts = (plan: Plan) => {
  const n = (a: Action) => plan.changes.filter((c) => c.action === a).length;
  return { create: n('create'), update: n('update'), replace: n('replace'), delete: n('delete'), unchanged: plan.unchanged.length };
};
