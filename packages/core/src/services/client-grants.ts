import { BadRequest, Conflict, NotFound, UniqueViolation } from '../errors';
import { ids } from '../crypto/random';
import type { ClientGrant, ClientGrantCreate, ClientGrantPatch, ResourceServer } from '../model';
import type { CheckpointPage, ClientGrantQuery, OffsetWindow, Page, Repos, Store } from '../ports';
import type { ChangeFeed } from './changes';

export const GRANT_NOT_FOUND = () => new NotFound('The client grant does not exist.', 'inexistent_client_grant');

export class ClientGrantService {
  constructor(private readonly deps: { store: Store; changes: ChangeFeed }) {}

  list(q: ClientGrantQuery & OffsetWindow): Promise<Page<ClientGrant>> { return this.deps.store.clientGrants.list(q); }
  listFrom(q: ClientGrantQuery & { from?: string; take: number }): Promise<CheckpointPage<ClientGrant>> { return this.deps.store.clientGrants.listFrom(q); }

  async get(id: string): Promise<ClientGrant> {
    const g = await this.deps.store.clientGrants.findById(id);
    if (!g) throw GRANT_NOT_FOUND();
    return g;
  }

  async create(input: ClientGrantCreate): Promise<ClientGrant> {
    const { store } = this.deps;
    if ((input.client_id === undefined) === (input.default_for === undefined)) {
      throw new BadRequest("Payload validation error: 'Exactly one of client_id or default_for must be provided'.");
    }
    if (input.client_id !== undefined) {
      const client = await store.clients.findById(input.client_id);
      if (!client) throw new NotFound('Client not found', 'inexistent_client');
    }
    const api = await store.resourceServers.findByIdentifier(input.audience);
    if (!api) throw new NotFound(`No resource with identifier ${input.audience}`, 'inexistent_resource_server');
    if (input.default_for !== undefined && api.is_system) throw new BadRequest('Client grants for this API cannot be created for third-party clients.');
    const grant: ClientGrant = { id: ids.clientGrant(), audience: input.audience, subject_type: input.subject_type ?? 'client' };
    if (input.client_id !== undefined) grant.client_id = input.client_id;
    if (input.default_for !== undefined) grant.default_for = input.default_for;
    applyPatch(grant, input);
    checkScopes(grant, api);
    try {
      await store.write((tx) => tx.clientGrants.insert(grant));
    } catch (e) {
      if (e instanceof UniqueViolation) throw new Conflict('A client grant for this client, audience and subject type already exists.', 'client_grant_conflict', e);
      throw e;
    }
    this.deps.changes.notify();
    return grant;
  }

  async update(id: string, patch: ClientGrantPatch): Promise<ClientGrant> {
    const current = await this.get(id);
    if (current.is_system) throw new BadRequest('System client grants cannot be modified.', 'operation_not_supported');
    const next = structuredClone(current);
    applyPatch(next, patch);
    // turning allow_all_scopes on without sending scope drops the explicit list (Auth0's recorded behaviour)
    if (patch.allow_all_scopes === true && patch.scope === undefined) delete next.scope;
    // only a scope list sent now is checked against the API: scopes the API dropped since must not block other changes
    const api = patch.scope ? await this.deps.store.resourceServers.findByIdentifier(next.audience) : undefined;
    checkScopes(next, api);
    await this.deps.store.write((tx) => tx.clientGrants.replace(next));
    this.deps.changes.notify();
    return next;
  }

  async delete(id: string): Promise<void> {
    const g = await this.get(id);
    if (g.is_system) throw new BadRequest('System client grants cannot be deleted.', 'operation_not_supported');
    await this.deps.store.write((tx) => tx.clientGrants.delete(id));
    this.deps.changes.notify();
  }
}

function applyPatch(g: ClientGrant, patch: ClientGrantPatch): void {
  const target = g as unknown as Record<string, unknown>;
  for (const key of ['scope', 'allow_all_scopes', 'organization_usage', 'allow_any_organization', 'authorization_details_types'] as const) {
    const value = (patch as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (value === null) delete target[key];
    else target[key] = structuredClone(value);
  }
}

/** `scope` cannot be combined with allow_all_scopes, and must name scopes the API defines (when `api` is given). */
function checkScopes(g: ClientGrant, api: ResourceServer | undefined): void {
  if (g.allow_all_scopes && g.scope && g.scope.length > 0) {
    throw new BadRequest("Payload validation error: 'scope must be empty when allow_all_scopes is true' on property scope.");
  }
  if (g.allow_all_scopes) delete g.scope;
  if (!api) return;
  const defined = new Set((api.scopes ?? []).map((s) => s.value));
  const unknown = (g.scope ?? []).filter((s) => !defined.has(s));
  if (unknown.length > 0) {
    throw new BadRequest(`Payload validation error: 'Scopes not defined on the resource server ${api.identifier}: ${unknown.join(', ')}' on property scope.`);
  }
}

/**
 * Drops from every grant on `audience` the scopes the API no longer defines (run in the transaction that
 * changes the API's scopes), so a scope that is later defined again is not silently granted back.
 */
export async function pruneGrantScopes(tx: Repos, audience: string, keep: string[]): Promise<void> {
  const defined = new Set(keep);
  const stale: ClientGrant[] = [];
  let from: string | undefined;
  do {
    const page = await tx.clientGrants.listFrom({ audience, from, take: 500 });
    for (const g of page.items) if (g.scope?.some((s) => !defined.has(s))) stale.push(g);
    from = page.next;
  } while (from !== undefined);
  for (const g of stale) await tx.clientGrants.replace({ ...g, scope: g.scope!.filter((s) => defined.has(s)) });
}
