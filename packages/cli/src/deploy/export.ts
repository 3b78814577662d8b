import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { clientSpecOfLive, grantSpecOfLive } from './plan-clients';
import { specOfLive } from './plan-resource-servers';
import { slug } from './planner';
import { API_VERSION, type Kind } from './schema';
import { DeployError, type Json, type LiveState } from './types';

export interface ExportedDoc { apiVersion: string; kind: Kind; metadata: { name: string }; spec: object }

/** The whole tenant as manifests (system APIs, the global client and the tool's own client left out), sorted. */
export function exportDocuments(live: LiveState, withSecrets: boolean): ExportedDoc[] {
  const names = new Set<string>();
  const unique = (kind: Kind, base: string) => {
    let name = slug(base);
    for (let i = 2; names.has(`${kind}/${name}`); i++) name = `${slug(base)}-${i}`;
    names.add(`${kind}/${name}`);
    return name;
  };
  const doc = (kind: Kind, base: string, spec: object): ExportedDoc => ({ apiVersion: API_VERSION, kind, metadata: { name: unique(kind, base) }, spec });
  const by = <T>(f: (x: T) => string) => (a: T, b: T) => f(a).localeCompare(f(b));
  const out: ExportedDoc[] = [];
  const apis = live.resourceServers.filter((r) => !r.is_system).sort(by((r) => String(r.identifier)));
  for (const r of apis) out.push(doc('ResourceServer', String(r.name ?? r.identifier), specOfLive(r, withSecrets)));
  const clients = live.clients.filter((c) => c.client_id !== live.selfClientId).sort(by((c) => `${c.name}|${c.client_id}`));
  const nameCount = new Map<string, number>();
  for (const c of clients) nameCount.set(String(c.name), (nameCount.get(String(c.name)) ?? 0) + 1);
  const refOf = new Map<string, string>();
  for (const c of clients) {
    refOf.set(String(c.client_id), nameCount.get(String(c.name)) === 1 ? String(c.name) : String(c.client_id));
    out.push(doc('Client', String(c.name), clientSpecOfLive(c)));
  }
  const grants = live.grants.filter((g) => !g.is_system && typeof g.client_id === 'string' && refOf.has(g.client_id));
  const grantDocs = grants.map((g) => ({ g, ref: refOf.get(String(g.client_id))! })).sort(by(({ g, ref }) => `${ref}|${g.audience}|${g.subject_type ?? 'client'}`));
  for (const { g, ref } of grantDocs) out.push(doc('ClientGrant', `${ref}-${String(g.audience)}${g.subject_type === 'user' ? '-user' : ''}`, grantSpecOfLive(g, ref)));
  for (const role of [...(live.roles ?? [])].sort(by((r) => r.name))) {
    const permissions = [...role.permissions].sort(by((p) => `${p.resource_server_identifier}|${p.permission_name}`));
    out.push(doc('Role', role.name, { name: role.name, ...(role.description !== undefined && { description: role.description }), ...(permissions.length && { permissions }) }));
  }
  return out;
}

export const toYaml = (docs: object[]) => docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');

const FILES: Record<Kind, string> = { ResourceServer: 'resource-servers.yaml', Client: 'clients.yaml', ClientGrant: 'client-grants.yaml', Role: 'roles.yaml' };

/** `-o dir/` (or an existing folder, or a path without .yaml/.yml) writes one file per kind; `-o x.yaml` one file. */
export function writeExport(docs: ExportedDoc[], out: string): string[] {
  const isDir = out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory()) || !['.yaml', '.yml'].includes(extname(out));
  if (!isDir) {
    writeFileSync(out, toYaml(docs));
    return [out];
  }
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const [kind, file] of Object.entries(FILES) as Array<[Kind, string]>) {
    const mine = docs.filter((d) => d.kind === kind);
    const path = join(out, file);
    if (mine.length) { writeFileSync(path, toYaml(mine)); written.push(path); }
  }
  return written;
}

/** Adds one ResourceServer document to a manifest file (created if missing); refuses a second copy. */
export function appendToManifest(file: string, docYaml: ExportedDoc): void {
  let text = '';
  if (existsSync(file)) {
    text = readFileSync(file, 'utf8');
    const docs = parseAllDocuments(text);
    const identifier = (docYaml.spec as Json).identifier;
    for (const d of Array.isArray(docs) ? docs : []) {
      const v = d.toJS() as { spec?: Json; metadata?: { name?: string }; kind?: string } | null;
      if (v?.spec?.identifier === identifier) throw new DeployError(`${file} already declares ${identifier} (metadata.name ${v?.metadata?.name})`);
      if (v?.kind === docYaml.kind && v?.metadata?.name === docYaml.metadata.name) throw new DeployError(`${file} already has a ${docYaml.kind} named ${docYaml.metadata.name}; pick another with --name`);
    }
    if (text.trim() && !text.endsWith('\n')) text += '\n';
  }
  writeFileSync(file, text.trim() ? `${text}---\n${toYaml([docYaml])}` : toYaml([docYaml]));
}
