import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { closest } from '@tessera/core';
import { aliasClient, legacyResourceServer, UNMAPPED_CLIENT_FIELDS } from './planton';
import { API_VERSION, CARRIED_METADATA, Envelope, LEGACY_API_VERSION, LEGACY_KINDS, SPEC_SCHEMAS, type Kind, type LegacyKind } from './schema';
import { DeployError, type CarriedMetadata, type Issue, type Path, type Resource } from './types';

/** The manifest schemas, compiled on first use (loading this module, as `tessera dev` does, compiles nothing). */
let checks: { envelope: ValidateFunction; spec: Record<string, ValidateFunction> } | undefined;
function compiled() {
  if (!checks) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    checks = { envelope: ajv.compile(Envelope), spec: Object.fromEntries(Object.entries(SPEC_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)])) };
  }
  return checks;
}

/** Expands files and folders (recursively, *.yaml / *.yml, sorted) into the list of manifest files. */
export function manifestFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try { st = statSync(p); } catch { throw new DeployError(`${p}: no such file or directory`); }
    if (st.isDirectory()) {
      const found = walk(p);
      if (found.length === 0) throw new DeployError(`${p}: no .yaml or .yml files in this folder`);
      out.push(...found);
    } else out.push(p);
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return ['.yaml', '.yml'].includes(extname(e.name)) ? [p] : [];
  });
}

export interface Loaded { resources: Resource[]; issues: Issue[] }

/** What one document yields before it is placed: resources with their path translation, and findings. */
export type Found = Omit<Resource, 'source'> & { spell: (wire: Path) => Path };
type Finding = Omit<Issue, 'file' | 'doc'>;
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses every document and checks it whole: envelope, metadata and spec are checked together, so one run reports
 * every schema error of every document (semantic rules, in validate.ts, also run on what is valid).
 */
export function loadManifests(paths: string[]): Loaded {
  const resources: Resource[] = [];
  const issues: Issue[] = [];
  for (const file of manifestFiles(paths)) {
    const rel = relative(process.cwd(), file);
    const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(file);
    const lc = new LineCounter();
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter: lc });
    if (!Array.isArray(docs)) continue; // an empty file
    docs.forEach((doc, i) => {
      const lineAt = (user: Path): number | undefined => lineOf(doc, lc, user);
      if (doc.errors.length) {
        for (const e of doc.errors) issues.push({ severity: 'error', file: shown, doc: i + 1, line: e.linePos?.[0].line, message: `YAML syntax: ${e.message.split('\n')[0]}` });
        return;
      }
      const value = doc.toJS();
      if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
      const found = checkDocument(value, lineAt);
      issues.push(...found.issues.map((x) => ({ ...x, file: shown, doc: i + 1 })));
      for (const { spell, ...r } of found.resources) {
        const locate = (wire: Path) => { const user = spell(wire); return { path: formatPath(user), line: lineAt(user) }; };
        resources.push({ ...r, source: { file: shown, doc: i + 1, line: lineAt([]), locate } } as Resource);
      }
    });
  }
  return { resources, issues };
}

function checkDocument(value: unknown, lineAt: (user: Path) => number | undefined): { resources: Found[]; issues: Finding[] } {
  if (!isObject(value)) return { resources: [], issues: [{ severity: 'error', line: lineAt([]), message: 'a manifest document is a mapping with apiVersion, kind, metadata and spec' }] };
  const issues: Finding[] = [];
  const same = (p: Path) => p;
  const envelopeCheck = compiled().envelope;
  if (!envelopeCheck(value)) issues.push(...ajvIssues(envelopeCheck.errors ?? [], [], same, lineAt));
  const kind = typeof value.kind === 'string' && Object.hasOwn(SPEC_SCHEMAS, value.kind) ? (value.kind as Kind | LegacyKind) : undefined;
  if (!kind) return { resources: [], issues };
  const legacy = (LEGACY_KINDS as readonly string[]).includes(kind);
  const expected = legacy ? LEGACY_API_VERSION : API_VERSION;
  if ([API_VERSION, LEGACY_API_VERSION].includes(value.apiVersion as string) && value.apiVersion !== expected) {
    issues.push({ severity: 'error', line: lineAt(['kind']), path: 'kind', message: `kind ${kind} does not belong to apiVersion ${value.apiVersion} (it is a kind of ${expected})` });
  }
  const meta = isObject(value.metadata) ? value.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (meta.replaces !== undefined && kind !== 'ResourceServer' && kind !== 'Auth0ResourceServer') {
    issues.push({ severity: 'error', line: lineAt(['metadata', 'replaces']), path: 'metadata.replaces', message: 'replaces applies to ResourceServer documents only' });
  }
  if (!isObject(value.spec)) return { resources: [], issues };
  // Project Planton documents are written in snake_case or camelCase (protobuf JSON); both map onto the wire names,
  // and every finding is reported in the user's own spelling.
  const { wire, spell: specSpell } = legacy ? snakeView(value.spec) : { wire: structuredClone(value.spec), spell: same };
  const spell = (p: Path): Path => (p[0] === 'spec' ? ['spec', ...specSpell(p.slice(1))] : p);
  const check = compiled().spec[kind];
  if (!check(wire)) {
    const errors = check.errors ?? [];
    issues.push(...ajvIssues(errors, ['spec'], spell, lineAt, kind === 'Auth0Client' ? unmappedClientField : undefined));
    if (!prune(wire, errors)) return { resources: [], issues };
  }
  const carried = Object.fromEntries(CARRIED_METADATA.filter((k) => meta[k] !== undefined).map((k) => [k, meta[k]])) as CarriedMetadata;
  const common = { name, ...(Object.keys(carried).length > 0 && { metadata: carried }) };
  let found: Found[];
  if (kind === 'Auth0Client') found = aliasClient(name, wire).map(({ map, ...r }) => ({ ...r, ...common, name: r.name, spell: (p: Path) => spell(map(p)) }) as Found);
  else {
    const spec = kind === 'Auth0ResourceServer' ? legacyResourceServer(wire) : wire;
    const replaces = typeof meta.replaces === 'string' ? { replaces: meta.replaces } : {};
    found = [{ kind: kind === 'Auth0ResourceServer' ? 'ResourceServer' : kind, ...common, spec, ...replaces, spell } as Found];
  }
  return { resources: found, issues };
}

/**
 * Removes what the schema refused (a field, an array item becomes a hole) so that the semantic rules can still run
 * on the rest of the document. False when the spec as a whole is unusable.
 */
function prune(spec: Json, errors: ErrorObject[]): boolean {
  for (const e of errors) {
    if (e.keyword === 'required') continue;
    const path = pointer(e.instancePath);
    if (e.keyword === 'additionalProperties') path.push(String((e.params as Json).additionalProperty));
    if (path.length === 0) return false;
    let parent: unknown = spec;
    for (const seg of path.slice(0, -1)) parent = (parent as Json | undefined)?.[seg as string];
    const last = path[path.length - 1];
    if (Array.isArray(parent) && typeof last === 'number') parent[last] = undefined;
    else if (isObject(parent)) delete parent[last as string];
  }
  return true;
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** Maps whose keys are the user's data, not field names: never renamed. */
const FREE_KEYS = new Set(['client_metadata', 'jwt_configuration.scopes', 'authorization_details[]']);

/** The spec with snake_case field names, and the way back from a wire path to the user's spelling. */
function snakeView(spec: Json): { wire: Json; spell: (wire: Path) => Path } {
  const deep = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => deep(x, `${at}[]`));
    if (!isObject(v)) return v;
    const free = FREE_KEYS.has(at);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => {
      const key = free ? k : snake(k);
      return [key, deep(x, free ? `${at}.*` : at ? `${at}.${key}` : key)];
    }));
  };
  const spell = (wire: Path): Path => {
    const out: Path = [];
    let cur: unknown = spec;
    let at = '';
    for (const seg of wire) {
      if (typeof seg === 'number') { out.push(seg); cur = Array.isArray(cur) ? cur[seg] : undefined; at += '[]'; continue; }
      const free = FREE_KEYS.has(at);
      const keys = isObject(cur) ? Object.keys(cur) : [];
      const key = free ? seg : keys.find((k) => k === seg) ?? keys.find((k) => snake(k) === seg) ?? seg;
      out.push(key);
      cur = isObject(cur) ? cur[key] : undefined;
      at = free ? `${at}.*` : at ? `${at}.${seg}` : seg;
    }
    return out;
  };
  return { wire: deep(spec, '') as Json, spell };
}

/** The line of a field: its key's line (a nested mapping starts below it), or an array item's first line. */
function lineOf(doc: Document.Parsed, lc: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const range = nodeRange(doc, path.slice(0, n));
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}

function nodeRange(doc: Document.Parsed, path: Path): [number, number, number] | undefined {
  type Ranged = { range?: [number, number, number] | null } | null | undefined;
  if (path.length === 0) return (doc.contents as Ranged)?.range ?? undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value === last : p.key === last));
    return (pair?.key as Ranged)?.range ?? undefined;
  }
  if (isSeq(parent) && typeof last === 'number') return (parent.items[last] as Ranged)?.range ?? undefined;
  return undefined;
}

const pointer = (p: string): Path => p.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));

/** Why a Project Planton Auth0Client field is refused (docs/deploy.md lists the mapping). */
function unmappedClientField(wire: Path, user: string): string | undefined {
  return wire.length === 2 && UNMAPPED_CLIENT_FIELDS.includes(String(wire[1]))
    ? `${user} (a field of Project Planton's Auth0Client) has no equivalent in Tessera's Client and is refused rather than ignored`
    : undefined;
}

/** "did you mean …?" in the spelling the user writes (camelCase when the unknown name is camelCase). */
function suggestion(unknown: string, candidates: string[]): string {
  const best = closest(snake(unknown), candidates) ?? closest(unknown, candidates);
  if (!best) return '';
  return `; did you mean ${/[A-Z]/.test(unknown) ? camel(best) : best}?`;
}

/**
 * Ajv errors in z-schema's words (the Management API's wording), each with its field path and line in the user's
 * spelling; unknown fields and values get the closest known one.
 */
export function ajvIssues(
  errors: ErrorObject[], prefix: Path, spell: (wire: Path) => Path, lineAt: (user: Path) => number | undefined,
  unknownField?: (wire: Path, user: string) => string | undefined,
): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  // A value that matches none of a union's forms is reported once, not once per form.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.schemaPath.includes('/anyOf/') && unions.some((u) => e.instancePath === u || e.instancePath.startsWith(`${u}/`))) continue;
    const path = spell([...prefix, ...pointer(e.instancePath)]);
    const p = e.params as Json;
    let message: string;
    switch (e.keyword) {
      case 'required': message = `Missing required property: ${p.missingProperty}`; break;
      case 'additionalProperties': {
        const wire = [...prefix, ...pointer(e.instancePath), String(p.additionalProperty)];
        const user = String(spell(wire).at(-1));
        path.push(user);
        message = unknownField?.(wire, user) ?? `Additional properties not allowed: ${user}${suggestion(user, Object.keys((e.parentSchema as { properties?: Json })?.properties ?? {}))}`;
        break;
      }
      case 'enum': {
        // kinds and apiVersions only: a near value of a setting (HS512 → RS512) may mean something else entirely
        const hint = prefix.length === 0 && typeof e.data === 'string' ? closest(e.data, (p.allowedValues as unknown[]).filter((v): v is string => typeof v === 'string')) : undefined;
        message = `No enum match for: ${JSON.stringify(e.data)} (expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`;
        break;
      }
      case 'const': message = `No enum match for: ${JSON.stringify(e.data)} (expected ${JSON.stringify(p.allowedValue)})`; break;
      case 'type': message = `Expected type ${p.type} but found type ${Array.isArray(e.data) ? 'array' : e.data === null ? 'null' : typeof e.data}`; break;
      case 'maximum': message = `Value ${e.data} is greater than maximum ${p.limit}`; break;
      case 'minimum': message = `Value ${e.data} is less than minimum ${p.limit}`; break;
      case 'maxLength': message = `String is too long (${String(e.data).length} chars), maximum ${p.limit}`; break;
      case 'minLength': message = `String is too short (${String(e.data).length} chars), minimum ${p.limit}`; break;
      case 'pattern': message = `String does not match pattern ${p.pattern}: ${e.data}`; break;
      case 'maxProperties': message = `Too many properties defined (${Object.keys(e.data as Json).length}), maximum ${p.limit}`; break;
      case 'anyOf': message = 'Data does not match any schemas from \'anyOf\''; break;
      default: message = e.message ?? e.keyword;
    }
    const key = `${path.join('.')}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ severity: 'error', line: lineAt(path), path: formatPath(path), message });
  }
  return out;
}

export function formatPath(path: Path): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}
