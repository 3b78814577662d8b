import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { API_VERSION, Envelope, LEGACY_KIND, SPEC_SCHEMAS, type Kind } from './schema';
import { DeployError, type Issue, type Resource, type Source } from './types';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const envelopeCheck = ajv.compile(Envelope);
const specChecks = Object.fromEntries(Object.entries(SPEC_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)])) as Record<string, ValidateFunction>;

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

/** Parses every document and checks it against the schema of its kind; semantic rules live in validate.ts. */
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
      const at = (path: Array<string | number>): number | undefined => lineOf(doc, lc, path);
      const source: Source = { file: shown, doc: i + 1, line: at([]), lineOf: at };
      if (doc.errors.length) {
        for (const e of doc.errors) issues.push({ severity: 'error', file: shown, doc: i + 1, line: e.linePos?.[0].line, message: `YAML syntax: ${e.message.split('\n')[0]}` });
        return;
      }
      const value = doc.toJS();
      if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
      const found = checkDocument(value, (path) => ({ file: shown, doc: i + 1, line: at(path) }));
      issues.push(...found.issues);
      if (found.resource) resources.push({ ...found.resource, source } as Resource);
    });
  }
  return { resources, issues };
}

type Locate = (path: Array<string | number>) => { file: string; doc: number; line?: number };

function checkDocument(value: unknown, locate: Locate): { resource?: Omit<Resource, 'source'>; issues: Issue[] } {
  if (!envelopeCheck(value)) return { issues: ajvIssues(envelopeCheck.errors ?? [], [], locate) };
  const doc = value as { apiVersion: string; kind: string; metadata: { name: string; replaces?: string }; spec: Record<string, unknown> };
  const issues: Issue[] = [];
  const legacy = doc.kind === LEGACY_KIND;
  if (legacy !== (doc.apiVersion !== API_VERSION)) {
    issues.push({ severity: 'error', ...locate(['kind']), path: 'kind', message: `kind ${doc.kind} does not belong to apiVersion ${doc.apiVersion}` });
    return { issues };
  }
  const spec = legacy ? snakeKeys(doc.spec) : doc.spec;
  const check = specChecks[doc.kind];
  if (!check(spec)) return { issues: ajvIssues(check.errors ?? [], ['spec'], locate) };
  const kind: Kind = legacy ? 'ResourceServer' : (doc.kind as Kind);
  if (doc.metadata.replaces !== undefined && kind !== 'ResourceServer') {
    issues.push({ severity: 'error', ...locate(['metadata', 'replaces']), path: 'metadata.replaces', message: 'replaces applies to ResourceServer documents only' });
  }
  const normalized = legacy ? { ...spec, ...(spec.scopes ? { scopes: (spec.scopes as Array<{ name: string; description?: string }>).map(({ name, description }) => (description === undefined ? { value: name } : { value: name, description })) } : {}) } : spec;
  const resource = { kind, name: doc.metadata.name, spec: normalized, ...(doc.metadata.replaces && { replaces: doc.metadata.replaces }) };
  return { resource: resource as Omit<Resource, 'source'>, issues };
}

/** The Project Planton examples use snake_case; newer ones camelCase. Both map onto the wire names. */
function snakeKeys(spec: Record<string, unknown>): Record<string, unknown> {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const deep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), deep(x)]));
    return v;
  };
  return deep(spec) as Record<string, unknown>;
}

function lineOf(doc: Document.Parsed, lc: LineCounter, path: Array<string | number>): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as { range?: [number, number, number] } | null | undefined;
    if (node?.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Ajv errors in z-schema's words (the Management API's wording), each with its field path. */
export function ajvIssues(errors: ErrorObject[], prefix: Array<string | number>, locate: Locate): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const e of errors) {
    const path = [...prefix, ...e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')))];
    const p = e.params as Record<string, unknown>;
    let message: string;
    switch (e.keyword) {
      case 'required': message = `Missing required property: ${p.missingProperty}`; break;
      case 'additionalProperties': path.push(String(p.additionalProperty)); message = `Additional properties not allowed: ${p.additionalProperty}`; break;
      case 'enum': message = `No enum match for: ${JSON.stringify(e.data)} (expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`; break;
      case 'const': message = `No enum match for: ${JSON.stringify(e.data)} (expected ${JSON.stringify(p.allowedValue)})`; break;
      case 'type': message = `Expected type ${p.type} but found type ${Array.isArray(e.data) ? 'array' : e.data === null ? 'null' : typeof e.data}`; break;
      case 'maximum': message = `Value ${e.data} is greater than maximum ${p.limit}`; break;
      case 'minimum': message = `Value ${e.data} is less than minimum ${p.limit}`; break;
      case 'maxLength': message = `String is too long (${String(e.data).length} chars), maximum ${p.limit}`; break;
      case 'minLength': message = `String is too short (${String(e.data).length} chars), minimum ${p.limit}`; break;
      case 'pattern': message = `String does not match pattern ${p.pattern}: ${e.data}`; break;
      default: message = e.message ?? e.keyword;
    }
    const key = `${path.join('.')}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ severity: 'error', ...locate(path), path: formatPath(path), message });
  }
  return out;
}

export function formatPath(path: Array<string | number>): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}
