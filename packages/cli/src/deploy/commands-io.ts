import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { applyPlan } from './applier';
import { appendToManifest, exportDocuments, toYaml, writeExport, type ExportedDoc } from './export';
import { ApiCallError, enc, ManagementClient } from './mgmt-client';
import { specOfLive } from './plan-resource-servers';
import type { Change, Plan } from './plan-types';
import { slug } from './planner';
import { renderPlan } from './render';
import { API_VERSION } from './schema';
import { action, connect, loadOrFail, print, printJson, withFiles, withTarget, type CommonOptions } from './session';
import { resolveTarget } from './target';
import { DeployError, type Json, type LiveState, type Resource } from './types';

/** `tessera export`: the whole tenant as manifests, to stdout, one file, or a folder (one file per kind). */
export function exportCommand(): Command {
  return withTarget(new Command('export').description('write the target\'s APIs, clients, grants and roles as manifests'))
    .option('-o, --out <path>', 'a .yaml file, or a folder (one file per kind); stdout when omitted')
    .option('--include-secrets', 'include HS256 signing secrets')
    .action(action(async (o: CommonOptions & { out?: string; includeSecrets?: boolean }) => {
      const { live } = await connect(o);
      const docs = exportDocuments(live, !!o.includeSecrets);
      if (!o.out) { print(toYaml(docs)); return 0; }
      const files = writeExport(docs, o.out);
      process.stderr.write(`exported ${docs.length} resource(s) to ${files.join(', ') || '(nothing to write)'}\n`);
      return 0;
    }));
}

/** `tessera import <id|identifier>`: adopt one existing API into a manifest file. */
export function importCommand(): Command {
  return withTarget(new Command('import').description('adopt an existing API (by id or identifier) into a manifest file'))
    .argument('<id-or-identifier>', 'the API\'s id or identifier')
    .option('-o, --out <file>', 'manifest file to append to (created if missing); stdout when omitted')
    .option('--name <name>', 'metadata.name of the new document (default: derived from the API name)')
    .option('--include-secrets', 'include the HS256 signing secret')
    .action(action(async (ref: string, o: CommonOptions & { out?: string; name?: string; includeSecrets?: boolean }) => {
      const api = new ManagementClient(resolveTarget(o));
      let rs: Json;
      try {
        rs = await api.request('GET', `/resource-servers/${enc(ref)}`);
      } catch (e) {
        if (e instanceof ApiCallError && e.status === 404) throw new DeployError(`no API with id or identifier ${ref} on ${api.target.origin}`);
        throw e;
      }
      if (rs.is_system) throw new DeployError(`${rs.identifier} is a system API (${rs.name}) and cannot be managed from manifests`);
      const doc: ExportedDoc = { apiVersion: API_VERSION, kind: 'ResourceServer', metadata: { name: o.name ?? slug(String(rs.name ?? rs.identifier)) }, spec: specOfLive(rs, !!o.includeSecrets) };
      if (!o.out) { print(toYaml([doc])); return 0; }
      appendToManifest(o.out, doc);
      process.stderr.write(`imported ${rs.identifier} (id ${rs.id}) into ${o.out} as ResourceServer ${doc.metadata.name}\n`);
      return 0;
    }));
}

/** `tessera destroy -f`: deletes what the manifests declare and the target has (never system APIs). */
export function destroyCommand(): Command {
  return withTarget(withFiles(new Command('destroy').description('delete the resources the manifests declare')))
    .option('--dry-run', 'only show what would be deleted')
    .option('-y, --yes', 'delete without asking (required when no terminal can be asked)')
    .action(action(async (o: CommonOptions & { dryRun?: boolean; yes?: boolean }) => {
      const resources = loadOrFail(o.file!, o);
      const { api, live } = await connect(o);
      const p = destroyPlan(resources, live);
      const json = o.output === 'json';
      if (!json) print(renderPlan(p, api.target.origin));
      if (o.dryRun || !p.changes.length) {
        if (json) printJson({ target: api.target.origin, deleted: [], planned: p.changes.map(brief), notes: p.notes });
        return 0;
      }
      if (!o.yes && !(await confirmed(`Delete ${p.changes.length} resource(s) from ${api.target.origin}? Type "yes" to confirm: `))) {
        if (!process.stdin.isTTY) throw new DeployError(`destroy would delete ${p.changes.length} resource(s) from ${api.target.origin}: pass --yes to confirm (no terminal to ask)`);
        process.stderr.write('Destroy cancelled: nothing was deleted.\n');
        return 1;
      }
      const result = await applyPlan(api, p, (line) => { if (!json) print(`${line}\n`); });
      if (json) printJson({ target: api.target.origin, deleted: result.applied.map(brief), notes: p.notes, ...(result.failed && { failed: { ...brief(result.failed.change), message: result.failed.message } }) });
      if (result.failed) {
        process.stderr.write(`\nError: deleting ${result.failed.change.kind} ${result.failed.change.name} failed: ${result.failed.message}\n`);
        return 1;
      }
      if (!json) print(`\nDestroy complete: ${result.applied.length} deleted.\n`);
      return 0;
    }));
}

/** Asks on the terminal; false without one (the caller then asks for --yes). */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try { return (await rl.question(question)).trim() === 'yes'; } finally { rl.close(); }
}

const brief = (c: Change) => ({ kind: c.kind, name: c.name, key: c.key, id: c.id });

export function destroyPlan(resources: Resource[], live: LiveState): Plan {
  const p: Plan = { changes: [], unchanged: [], blocked: [], notes: [] };
  const del = (r: Resource, key: string, id: string) => p.changes.push({ action: 'delete', kind: r.kind, name: r.name, key, id, fields: [] });
  const clientId = (ref: string) => live.clients.find((c) => c.name === ref && c.client_id !== live.selfClientId)?.client_id ?? live.clients.find((c) => c.client_id === ref)?.client_id;
  for (const r of resources) {
    if (r.kind === 'ResourceServer') {
      const rs = live.resourceServers.find((x) => x.identifier === r.spec.identifier);
      if (rs?.is_system) p.notes.push(`${r.spec.identifier} is a system API and is never deleted`);
      else if (rs) del(r, r.spec.identifier, String(rs.id));
    } else if (r.kind === 'Client') {
      const c = live.clients.find((x) => x.name === r.spec.name && x.client_id !== live.selfClientId);
      if (c) del(r, r.spec.name, String(c.client_id));
    } else if (r.kind === 'ClientGrant') {
      const id = clientId(r.spec.client);
      const g = live.grants.find((x) => x.client_id === id && x.audience === r.spec.audience && (x.subject_type ?? 'client') === (r.spec.subject_type ?? 'client'));
      if (g && !g.is_system) del(r, `${r.spec.client} → ${r.spec.audience}`, String(g.id));
    } else {
      const role = live.roles?.find((x) => x.name === r.spec.name);
      if (role) del(r, r.spec.name, role.id);
    }
  }
  return p;
}
