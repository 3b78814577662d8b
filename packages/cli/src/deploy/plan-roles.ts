import type { FieldChange, Permission, Plan } from './plan-types';
import type { LiveRole, RoleRes } from './types';

const permKey = (p: Permission) => `${p.resource_server_identifier}|${p.permission_name}`;
const sortPerms = (ps: Permission[]) => [...ps].sort((a, b) => permKey(a).localeCompare(permKey(b)));

/** Roles by name; `permissions` is the full set (absent = none), changed with add/remove calls. */
export function planRoles(wanted: RoleRes[], live: LiveRole[] | undefined, opts: { prune: boolean }, p: Plan): void {
  if (!wanted.length) return;
  if (!live) {
    p.blocked.push('the manifests declare roles but the target has no /api/v2/roles endpoint');
    return;
  }
  const matched = new Set<string>();
  for (const r of wanted) {
    const key = r.spec.name;
    const desired = (r.spec.permissions ?? []).map((x) => ({ resource_server_identifier: x.resource_server_identifier, permission_name: x.permission_name }));
    const current = live.find((x) => x.name === key);
    if (!current) {
      const fields: FieldChange[] = [{ field: 'name', before: null, after: key }];
      if (r.spec.description !== undefined) fields.push({ field: 'description', before: null, after: r.spec.description });
      if (desired.length) fields.push({ field: 'permissions', before: null, after: desired.map(permKey) });
      p.changes.push({ action: 'create', kind: 'Role', name: r.name, key, fields, body: { name: key, ...(r.spec.description !== undefined && { description: r.spec.description }) }, permissions: { add: desired, remove: [] } });
      continue;
    }
    matched.add(current.id);
    const fields: FieldChange[] = [];
    const body: Record<string, unknown> = {};
    if (r.spec.description !== undefined && r.spec.description !== (current.description ?? '')) {
      fields.push({ field: 'description', before: current.description ?? null, after: r.spec.description });
      body.description = r.spec.description;
    }
    const have = new Set(current.permissions.map(permKey));
    const want = new Set(desired.map(permKey));
    const add = desired.filter((x) => !have.has(permKey(x)));
    const remove = current.permissions.filter((x) => !want.has(permKey(x)));
    if (add.length || remove.length) fields.push({ field: 'permissions', before: sortPerms(current.permissions).map(permKey), after: sortPerms(desired).map(permKey) });
    if (!fields.length) { p.unchanged.push({ kind: 'Role', name: r.name, key }); continue; }
    p.changes.push({ action: 'update', kind: 'Role', name: r.name, key, id: current.id, fields, ...(Object.keys(body).length && { body }), permissions: { add, remove } });
  }
  if (opts.prune) {
    for (const role of live) {
      if (matched.has(role.id)) continue;
      p.changes.push({ action: 'delete', kind: 'Role', name: role.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), key: role.name, id: role.id, fields: [] });
    }
  }
}
