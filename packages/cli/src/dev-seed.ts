import { existsSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Tessera } from '@tessera/server';
import { isA0DeployDirectory, isA0DeployYaml, loadA0DeployDirectory, loadA0DeployYaml, parse, type Keywords } from './dev-a0deploy';
import { injectFetch } from './dev-inject';
import { applyTenant, type Written } from './dev-seed-tenant';
import { applyUsers, loadUsers } from './dev-seed-users';
import { applyPlan } from './deploy/applier';
import { readLive } from './deploy/live';
import { ManagementClient } from './deploy/mgmt-client';
import { plan } from './deploy/planner';
import { renderIssues } from './deploy/render';
import { thumbprints } from './deploy/session';
import { DeployError } from './deploy/types';
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

export interface SeedResult { created: number; updated: number; sources: number }

/**
 * Seeds a development tenant through its own Management API (in process: the real validation, scopes and errors):
 * a0deploy tenants first, then Tessera manifests (the deployment CLI's planner and applier, without pruning), then
 * users, so users can hold the roles and organizations seeded before them. Every file is read and parsed before the
 * first write; a refused write stops the run with the Management API's message.
 */
export class Seeder {
  private readonly api: ManagementClient;
  /** Users as last applied (by email): unchanged entries are skipped on a re-seed. */
  private readonly applied = new Map<string, string>();

  constructor(private readonly t: Tessera, private readonly admin: { clientId: string; clientSecret: string }, readonly sources: SeedSource[], private readonly keywords: Keywords) {
    const origin = t.config.publicUrl;
    this.api = new ManagementClient({
      domain: new URL(origin).host, origin, audience: t.config.managementAudience, audienceGiven: true, clientId: admin.clientId, clientSecret: admin.clientSecret,
    }, injectFetch(t.app));
  }

  async run(): Promise<SeedResult> {
    const sources = [...this.sources].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
    const loaded = sources.map((s) => this.load(s)); // everything parsed and checked before anything is written
    const total: Written = { created: 0, updated: 0 };
    for (const step of loaded) {
      const w = await step();
      total.created += w.created;
      total.updated += w.updated;
    }
    return { ...total, sources: sources.length };
  }

  private load(s: SeedSource): () => Promise<Written> {
    switch (s.kind) {
      case 'a0deploy-directory': case 'a0deploy-yaml': {
        const tenant = s.kind === 'a0deploy-directory' ? loadA0DeployDirectory(s.path, this.keywords) : loadA0DeployYaml(s.path, this.keywords);
        return () => applyTenant(this.api, this.t, tenant, this.admin.clientId);
      }
      case 'users': {
        const users = loadUsers(s.path, this.keywords);
        return () => applyUsers(this.api, users, this.applied);
      }
      case 'manifests': {
        const v = validateManifests([s.path]);
        if (v.errors) throw new DeployError(`${renderIssues(v.issues)}${v.errors} error(s) in the manifests of ${s.path}`);
        return async () => {
          const live = await readLive(this.api);
          const p = plan(v.resources, live, { prune: false }, await thumbprints(v.resources));
          if (p.blocked.length) throw new DeployError(`cannot seed ${s.path}:\n${p.blocked.map((b) => `  ${b}`).join('\n')}`);
          const result = await applyPlan(this.api, p, () => undefined);
          if (result.failed) throw new DeployError(`${s.path}: ${result.failed.change.action} ${result.failed.change.kind} ${result.failed.change.name} failed: ${result.failed.message}`);
          const n = (a: string) => result.applied.filter((c) => c.action === a).length;
          return { created: n('create') + n('replace'), updated: n('update') };
        };
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
