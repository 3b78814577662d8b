import { ApiCallError, enc, type ManagementClient } from './mgmt-client';
import { ordered, type Change, type Plan } from './plan-types';
import { DeployError, type Json } from './types';

export interface ApplyOptions { allowReplace: boolean }
export interface ApplyOutcome { applied: Change[]; failed?: { change: Change; message: string } }

/** Ids learnt while applying: new clients and grants moved by a replace are only known then. */
interface Registry { clients: Map<string, string>; grants: Map<string, string> }
const grantKey = (clientId: string, audience: string, subjectType: string) => `${clientId}|${audience}|${subjectType}`;

/** Refuses plans that need a flag, before any call is made. */
export function checkAllowed(plan: Plan, opts: ApplyOptions): void {
  const replaces = plan.changes.filter((c) => c.action === 'replace');
  if (replaces.length && !opts.allowReplace) {
    const lines = replaces.map((c) => `  ResourceServer ${c.name}: identifier ${c.move!.oldIdentifier} → ${c.key}`);
    throw new DeployError([
      'The identifier of an API cannot be changed; these changes replace the API:',
      ...lines,
      'A replace creates the new API, moves its client grants and role permissions, then deletes the old API.',
      'Tokens for the old audience stop working: update the applications that request it. Re-run with --allow-replace to proceed.',
    ].join('\n'));
  }
}

/**
 * Runs the plan in dependency order (APIs → clients → grants → roles, then deletions in reverse) and stops at
 * the first failure; every step is one resource, so what was applied before it stays consistent.
 */
export async function applyPlan(api: ManagementClient, plan: Plan, log: (line: string) => void): Promise<ApplyOutcome> {
  const reg: Registry = { clients: new Map(), grants: new Map() };
  const applied: Change[] = [];
  for (const change of ordered(plan.changes)) {
    try {
      const detail = await step(api, change, reg);
      applied.push(change);
      log(`${SIGN[change.action]} ${change.kind} ${change.name} (${change.key}): ${PAST[change.action]}${detail ? ` ${detail}` : ''}`);
    } catch (e) {
      return { applied, failed: { change, message: explain(change, e) } };
    }
  }
  return { applied };
}

export const SIGN = { create: '+', update: '~', replace: '-/+', delete: '-' } as const;
const PAST = { create: 'created', update: 'updated', replace: 'replaced', delete: 'deleted' } as const;

function explain(change: Change, e: unknown): string {
  if (e instanceof ApiCallError && e.status === 409 && change.kind === 'ResourceServer' && change.action !== 'delete') {
    return `${e.message}\nAn API with identifier ${change.key} already exists on the target. Adopt it with \`tessera import ${change.key} -o <manifest file>\` and plan again.`;
  }
  return e instanceof Error ? e.message : String(e);
}

async function step(api: ManagementClient, c: Change, reg: Registry): Promise<string> {
  if (c.action === 'delete') return remove(api, c);
  switch (c.kind) {
    case 'ResourceServer': {
      if (c.action === 'update') { await api.request('PATCH', `/resource-servers/${enc(c.id!)}`, c.body); return ''; }
      const created = await api.request('POST', '/resource-servers', c.body);
      if (c.action === 'replace') await moveAndDelete(api, c, reg);
      return `(id ${created.id})`;
    }
    case 'Client': {
      if (c.action === 'update') { await api.request('PATCH', `/clients/${enc(c.id!)}`, c.body); return ''; }
      const created = await api.request('POST', '/clients', c.body);
      reg.clients.set(c.key, String(created.client_id));
      return `(client_id ${created.client_id})`;
    }
    case 'ClientGrant': {
      const g = c.grant!;
      const clientId = g.clientId ?? reg.clients.get(g.client);
      if (!clientId) throw new DeployError(`the client "${g.client}" was not created`);
      if (c.action === 'update') {
        const id = c.id ?? reg.grants.get(grantKey(clientId, g.audience, g.subjectType));
        await api.request('PATCH', `/client-grants/${enc(id!)}`, c.body);
        return '';
      }
      const created = await api.request('POST', '/client-grants', { ...c.body, client_id: clientId });
      return `(id ${created.id})`;
    }
    case 'Role': return role(api, c);
  }
}

async function role(api: ManagementClient, c: Change): Promise<string> {
  let id = c.id;
  if (c.action === 'create') id = String((await api.request('POST', '/roles', c.body)).id);
  else if (c.body) await api.request('PATCH', `/roles/${enc(id!)}`, c.body);
  const { add, remove } = c.permissions!;
  if (remove.length) await api.request('DELETE', `/roles/${enc(id!)}/permissions`, { permissions: remove });
  if (add.length) await api.request('POST', `/roles/${enc(id!)}/permissions`, { permissions: add });
  return c.action === 'create' ? `(id ${id})` : '';
}

/** Seed 000's migration: the new API exists; now grants and permissions follow it, then the old one goes. */
async function moveAndDelete(api: ManagementClient, c: Change, reg: Registry): Promise<void> {
  const m = c.move!;
  for (const g of m.grants) {
    const created = await api.request<Json>('POST', '/client-grants', g.body);
    reg.grants.set(grantKey(String(g.body.client_id), c.key, String(created.subject_type ?? g.body.subject_type ?? 'client')), String(created.id));
    await deleteTolerant(api, `/client-grants/${enc(g.id)}`);
  }
  for (const r of m.roles) {
    if (r.add.length) await api.request('POST', `/roles/${enc(r.id)}/permissions`, { permissions: r.add });
    await api.request('DELETE', `/roles/${enc(r.id)}/permissions`, { permissions: r.remove });
  }
  await deleteTolerant(api, `/resource-servers/${enc(m.oldId)}`);
}

const DELETE_PATHS = { ResourceServer: '/resource-servers', Client: '/clients', ClientGrant: '/client-grants', Role: '/roles' } as const;

async function remove(api: ManagementClient, c: Change): Promise<string> {
  await deleteTolerant(api, `${DELETE_PATHS[c.kind]}/${enc(c.id!)}`);
  return '';
}

/** A resource already gone is what a delete wants (clients differ on 404 vs 204 here). */
async function deleteTolerant(api: ManagementClient, path: string): Promise<void> {
  try {
    await api.request('DELETE', path);
  } catch (e) {
    if (!(e instanceof ApiCallError && e.status === 404)) throw e;
  }
}
