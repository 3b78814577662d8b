import { existsSync, readFileSync, renameSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Tessera } from '@tessera/server';
import { isA0DeployDirectory, isA0DeployYaml, loadA0DeployDirectory, loadA0DeployYaml, parse, type Keywords } from './dev-a0deploy';
import { injectFetch } from './dev-inject';
import { applyTenant, noneTouched, SEED_ITEM_KINDS, type SeedItemKind, type Touched, type Written } from './dev-seed-tenant';
import { applyUsers, loadUsers, type AppliedUser } from './dev-seed-users';
import { applyPlan } from './deploy/applier';
import { readLive } from './deploy/live';
import { ApiCallError, enc, ManagementClient } from './deploy/mgmt-client';
import { plan } from './deploy/planner';
import { renderIssues } from './deploy/render';
import { thumbprints } from './deploy/session';
import { DeployError, type Resource } from './deploy/types';
import { validateManifests } from './deploy/validate';

export type SeedKind = 'a0deploy-directory' | 'a0deploy-yaml' | 'manifests' | 'users';
export interface SeedSource { path: string; kind: SeedKind }

const ORDER: SeedKind[] = ['a0deploy-directory', 'a0deploy-yaml', 'manifests', 'users'];

/**
 * What a `--seed` path holds: a folder in auth0-deploy-cli's directory format (resource-servers/, clients/, …) or of
 * Tessera manifests; a YAML file that is a0deploy's tenant.yaml or Tessera manifests (`apiVersion`); a JSON file of
 * users (an array, or `{ "users": [...] }`) or an a0deploy tenant in JSON.
 */
export function classifySeed(path: string): SeedSource {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new DeployError(`--seed ${path}: no such file or directory`);
  if (statSync(abs).isDirectory()) return { path: abs, kind: isA0DeployDirectory(abs) ? 'a0deploy-directory' : 'manifests' };
  const text = readFileSync(abs, 'utf8');
  if (extname(abs) === '.json') {
    const doc = parse(abs, text.replace(/(##|@@)[A-Z0-9_]+\1/g, '0')); // placeholders are replaced later; only the shape matters here
    return { path: abs, kind: isA0DeployYaml(doc) ? 'a0deploy-yaml' : 'users' };
  }
  const first = parseAllDocuments(text.replace(/(##|@@)[A-Z0-9_]+\1/g, '0'));
  const doc = Array.isArray(first) ? first[0]?.toJS() : undefined;
  return { path: abs, kind: isA0DeployYaml(doc) ? 'a0deploy-yaml' : 'manifests' };
}

export interface SeedResult { created: number; updated: number; deleted: number; sources: number }

/** Where each kind of seeded item is deleted. */
const DELETE_PATHS: Record<SeedItemKind, string> = {
  users: '/users', organizations: '/organizations', roles: '/roles', clientGrants: '/client-grants', clients: '/clients', resourceServers: '/resource-servers',
};

/** The ids the seed holds, by kind, as kept in a --data folder between runs. */
type OwnedFile = Partial<Record<SeedItemKind, string[]>>;

/**
 * Seeds a development tenant through its own Management API (in process: the real validation, scopes and errors):
 * a0deploy tenants first, then Tessera manifests (the deployment CLI's planner and applier, without pruning), then
 * users, so users can hold the roles and organizations seeded before them. Every file is read and parsed before the
 * first write; a refused write stops the run with the Management API's message.
 *
 * The tenant follows the seed: the seeder remembers the ids of the items the last run declared (APIs, clients,
 * client grants, roles, organizations, users: created, updated or found unchanged), and a run that succeeds deletes
 * those it no longer declares. Items the seed never declared (made through the API or the dashboard) are never
 * deleted; an item made by hand that a seed entry matches (same identifier, name or email) belongs to the seed from
 * then on. With `stateFile` (a --data folder) the ids outlive the process, so a restart with a smaller seed
 * deletes too.
 */
export class Seeder {
  private readonly api: ManagementClient;
  /** Users as last applied (by email): unchanged entries are skipped on a re-seed. */
  private readonly applied = new Map<string, AppliedUser>();
  /** The ids of the items the seed holds on the server (what the last run declared). */
  private owned: Touched;

  constructor(private readonly t: Tessera, private readonly admin: { clientId: string; clientSecret: string }, readonly sources: SeedSource[], private readonly keywords: Keywords,
    private readonly stateFile?: string) {
    const origin = t.config.publicUrl;
    this.api = new ManagementClient({
      domain: new URL(origin).host, origin, audience: t.config.managementAudience, audienceGiven: true, clientId: admin.clientId, clientSecret: admin.clientSecret,
    }, injectFetch(t.app));
    this.owned = readOwned(stateFile);
  }

  async run(): Promise<SeedResult> {
    const sources = [...this.sources].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
    const loaded = sources.map((s) => this.load(s)); // everything parsed and checked before anything is written
    const total = { created: 0, updated: 0, deleted: 0 };
    const touched = noneTouched();
    try {
      for (const step of loaded) {
        const w = await step(touched);
        total.created += w.created;
        total.updated += w.updated;
      }
      total.deleted = await this.deleteWhatLeft(touched);
      this.owned = touched;
    } catch (e) {
      // a run that stopped half-way still owns what it wrote: a later run deletes it if the seed no longer has it
      for (const k of SEED_ITEM_KINDS) for (const id of touched[k]) this.owned[k].add(id);
      throw e;
    } finally {
      writeOwned(this.stateFile, this.owned);
    }
    return { ...total, sources: sources.length };
  }

  /** Deletes what the seed held and no longer declares: dependants first (users … APIs); one already gone is fine. */
  private async deleteWhatLeft(touched: Touched): Promise<number> {
    let deleted = 0;
    for (const kind of SEED_ITEM_KINDS) {
      for (const id of [...this.owned[kind]]) {
        if (touched[kind].has(id) || (kind === 'clients' && id === this.admin.clientId)) continue;
        try {
          await this.api.request('DELETE', `${DELETE_PATHS[kind]}/${enc(id)}`);
          deleted++;
        } catch (e) {
          if (!(e instanceof ApiCallError && e.status === 404)) throw e;
        }
        this.owned[kind].delete(id);
        if (kind === 'users') for (const [email, u] of this.applied) if (u.id === id) this.applied.delete(email);
      }
    }
    return deleted;
  }

  private load(s: SeedSource): (touched: Touched) => Promise<Written> {
    switch (s.kind) {
      case 'a0deploy-directory': case 'a0deploy-yaml': {
        const tenant = s.kind === 'a0deploy-directory' ? loadA0DeployDirectory(s.path, this.keywords) : loadA0DeployYaml(s.path, this.keywords);
        return (touched) => applyTenant(this.api, this.t, tenant, this.admin.clientId, touched);
      }
      case 'users': {
        const users = loadUsers(s.path, this.keywords);
        return (touched) => applyUsers(this.api, users, this.applied, touched);
      }
      case 'manifests': {
        const v = validateManifests([s.path]);
        if (v.errors) throw new DeployError(`${renderIssues(v.issues)}${v.errors} error(s) in the manifests of ${s.path}`);
        return async (touched) => {
          const live = await readLive(this.api);
          const p = plan(v.resources, live, { prune: false }, await thumbprints(v.resources));
          if (p.blocked.length) throw new DeployError(`cannot seed ${s.path}:\n${p.blocked.map((b) => `  ${b}`).join('\n')}`);
          const result = await applyPlan(this.api, p, () => undefined);
          await this.manifestItems(v.resources, touched); // before a failure is reported too: what was applied is the seed's
          if (result.failed) throw new DeployError(`${s.path}: ${result.failed.change.action} ${result.failed.change.kind} ${result.failed.change.name} failed: ${result.failed.message}`);
          const n = (a: string) => result.applied.filter((c) => c.action === a).length;
          return { created: n('create') + n('replace'), updated: n('update') };
        };
      }
    }
  }

  /** The ids of the items manifests declare, found on the server as the planner matches them (after applying). */
  private async manifestItems(resources: Resource[], touched: Touched): Promise<void> {
    const apis = await this.api.listAll('/resource-servers', 'resource_servers');
    const clients = (await this.api.listAll('/clients', 'clients', { is_global: 'false' })).filter((c) => c.client_id !== this.admin.clientId);
    const grants = resources.some((r) => r.kind === 'ClientGrant') ? await this.api.listCheckpoint('/client-grants', 'client_grants') : [];
    const roles = resources.some((r) => r.kind === 'Role') ? await this.api.listAll('/roles', 'roles') : [];
    const add = (kind: SeedItemKind, id: unknown) => { if (id !== undefined) touched[kind].add(String(id)); };
    for (const r of resources) {
      switch (r.kind) {
        case 'ResourceServer': add('resourceServers', apis.find((x) => x.identifier === r.spec.identifier && x.is_system !== true)?.id); break;
        case 'Client': add('clients', clients.find((x) => x.name === r.spec.name)?.client_id); break;
        case 'Role': add('roles', roles.find((x) => x.name === r.spec.name)?.id); break;
        case 'ClientGrant': {
          const clientId = clients.find((x) => x.name === r.spec.client)?.client_id ?? r.spec.client;
          const subject = r.spec.subject_type ?? 'client';
          add('clientGrants', grants.find((g) => g.client_id === clientId && g.audience === r.spec.audience && (g.subject_type ?? 'client') === subject)?.id);
          break;
        }
      }
    }
  }

  /**
   * Re-seeds after a change under any source (debounced 200 ms; runs never overlap: a change during a run
   * starts one more run after it). Returns a function that stops watching.
   */
  watch(report: (result: SeedResult | Error) => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let again = false;
    const runOnce = async () => {
      try { report(await this.run()); } catch (e) { report(e as Error); }
    };
    const trigger = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (running) { again = true; return; }
        running = runOnce().finally(() => {
          running = undefined;
          if (again) { again = false; trigger(); }
        });
      }, 200);
    };
    // a file is watched through its folder: editors often save by replacing the file, which ends a watch on it
    const watchers: FSWatcher[] = this.sources.map((s) => (statSync(s.path).isDirectory()
      ? watch(s.path, { recursive: true }, trigger)
      : watch(dirname(s.path), (_event, name) => { if (name === basename(s.path)) trigger(); })));
    return () => { clearTimeout(timer); for (const w of watchers) w.close(); };
  }
}

function readOwned(file: string | undefined): Touched {
  const owned = noneTouched();
  if (file === undefined || !existsSync(file)) return owned;
  let doc: OwnedFile;
  try { doc = JSON.parse(readFileSync(file, 'utf8')) as OwnedFile; } catch { return owned; } // unreadable: own nothing, delete nothing
  for (const k of SEED_ITEM_KINDS) for (const id of Array.isArray(doc[k]) ? doc[k] : []) if (typeof id === 'string') owned[k].add(id);
  return owned;
}

/** Written whole or not at all (a temporary file renamed into place), readable by the user only. */
function writeOwned(file: string | undefined, owned: Touched): void {
  if (file === undefined) return;
  const doc: OwnedFile = Object.fromEntries(SEED_ITEM_KINDS.map((k) => [k, [...owned[k]].sort()]));
  writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
