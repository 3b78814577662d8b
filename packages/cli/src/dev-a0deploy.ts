import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DeployError, type Json } from './deploy/types';

/** What a development seed may hold in auth0-deploy-cli's formats (the rest of a tenant export is ignored). */
export interface A0Tenant { resourceServers: Json[]; clients: Json[]; clientGrants: Json[]; roles: Json[]; organizations: Json[] }

/** auth0-deploy-cli's folder names (its directory format) for the kinds a development seed applies. */
const FOLDERS: Record<keyof A0Tenant, string> = {
  resourceServers: 'resource-servers', clients: 'clients', clientGrants: 'grants', roles: 'roles', organizations: 'organizations',
};
const YAML_KEYS = [...Object.keys(FOLDERS), 'tenant'];

export type Keywords = Record<string, unknown>;

/** Whether a folder is in auth0-deploy-cli's directory format (it has one of its resource folders). */
export function isA0DeployDirectory(dir: string): boolean {
  return Object.values(FOLDERS).some((f) => existsSync(join(dir, f)) && statSync(join(dir, f)).isDirectory());
}

/** Whether a parsed YAML document is an auth0-deploy-cli tenant file (tenant.yaml). */
export function isA0DeployYaml(doc: unknown): boolean {
  return doc !== null && typeof doc === 'object' && !Array.isArray(doc) && !('apiVersion' in doc) && Object.keys(doc).some((k) => YAML_KEYS.includes(k));
}

/**
 * Keyword replacement as a0deploy does it, on the file's text before parsing: `@@KEY@@` (quoted or not) becomes the
 * value as JSON (arrays, objects), `##KEY##` the value as text. A placeholder left without a value is an error
 * naming the file and the keyword: sending it literally would seed something nobody meant.
 */
export function replaceKeywords(text: string, keywords: Keywords, file: string): string {
  let out = text;
  for (const [key, value] of Object.entries(keywords)) {
    const json = JSON.stringify(value);
    out = out.split(`"@@${key}@@"`).join(json).split(`'@@${key}@@'`).join(json).split(`@@${key}@@`).join(json);
    out = out.split(`##${key}##`).join(typeof value === 'string' ? value : JSON.stringify(value));
  }
  const left = /(##|@@)([A-Z0-9_]+)\1/.exec(out);
  if (left) throw new DeployError(`${file}: no value for the keyword ${left[2]} (${left[0]}): give it with --keywords or AUTH0_KEYWORD_REPLACE_MAPPINGS`);
  return out;
}

/** A tenant.yaml (or .json) in auth0-deploy-cli's YAML format. */
export function loadA0DeployYaml(file: string, keywords: Keywords): A0Tenant {
  const doc = parse(file, replaceKeywords(readFileSync(file, 'utf8'), keywords, file)) as Record<string, unknown>;
  const list = (k: keyof A0Tenant): Json[] => {
    const v = doc[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => x === null || typeof x !== 'object' || Array.isArray(x))) throw new DeployError(`${file}: ${k} must be a list of objects`);
    return v as Json[];
  };
  return { resourceServers: list('resourceServers'), clients: list('clients'), clientGrants: list('clientGrants'), roles: list('roles'), organizations: list('organizations') };
}

/** An auth0-deploy-cli directory: one JSON file per resource in resource-servers/, clients/, grants/, roles/, organizations/. */
export function loadA0DeployDirectory(dir: string, keywords: Keywords): A0Tenant {
  const read = (k: keyof A0Tenant): Json[] => {
    const folder = join(dir, FOLDERS[k]);
    if (!existsSync(folder)) return [];
    return readdirSync(folder).filter((f) => extname(f) === '.json').sort().map((f) => {
      const file = join(folder, f);
      const value = parse(file, replaceKeywords(readFileSync(file, 'utf8'), keywords, file));
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DeployError(`${file}: expected one JSON object`);
      return value as Json;
    });
  };
  return { resourceServers: read('resourceServers'), clients: read('clients'), clientGrants: read('clientGrants'), roles: read('roles'), organizations: read('organizations') };
}

/** JSON is YAML: one parser for both, errors naming the file. */
export function parse(file: string, text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new DeployError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * `--keywords`: inline JSON, or a JSON file (a map, or an a0deploy config file whose AUTH0_KEYWORD_REPLACE_MAPPINGS is
 * used). AUTH0_KEYWORD_REPLACE_MAPPINGS from the environment fills in, as a0deploy reads it; the flag wins per key.
 */
export function keywordsFrom(flag: string | undefined, env: NodeJS.ProcessEnv): Keywords {
  const fromEnv = env.AUTH0_KEYWORD_REPLACE_MAPPINGS ? mapping(env.AUTH0_KEYWORD_REPLACE_MAPPINGS, 'AUTH0_KEYWORD_REPLACE_MAPPINGS') : {};
  if (flag === undefined) return fromEnv;
  const inline = /^\s*[[{]/.test(flag);
  const given = mapping(inline ? flag : readText(flag), `--keywords ${inline ? '(inline JSON)' : flag}`);
  const inner = given.AUTH0_KEYWORD_REPLACE_MAPPINGS;
  return { ...fromEnv, ...(inner && typeof inner === 'object' && !Array.isArray(inner) ? inner as Keywords : given) };
}

function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch (e) { throw new DeployError(`--keywords ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
}

function mapping(text: string, what: string): Keywords {
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new DeployError(`${what}: expected a JSON object of keyword values`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DeployError(`${what}: expected a JSON object of keyword values`);
  return v as Keywords;
}
