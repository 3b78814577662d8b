import { isIP } from 'node:net';
import { clientUrlProblems, encryptionKeyProblem } from '@tessera/core';
import { loadManifests } from './manifest';
import { RESERVED_PATHS } from './target';
import { MANAGEMENT_API_NAME, type Issue, type Resource, type ResourceServerRes } from './types';

export const DEFAULT_TOKEN_LIFETIME = 86400;
export const DEFAULT_TOKEN_LIFETIME_FOR_WEB = 7200;

export interface Validated { resources: Resource[]; issues: Issue[]; errors: number; warnings: number }
export interface ValidateOptions {
  /** The target's `host[:port]` when known (--domain, TESSERA_DEPLOY_DOMAIN): its reserved identifiers are errors. */
  domain?: string;
}

/** Loads, schema-checks and applies the server's cross-field rules; every finding names file, document and field. */
export function validateManifests(paths: string[], opts: ValidateOptions = {}): Validated {
  const { resources, issues } = loadManifests(paths);
  issues.push(...semanticIssues(resources, opts));
  issues.sort((a, b) => a.file.localeCompare(b.file) || (a.doc ?? 0) - (b.doc ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  const errors = issues.filter((i) => i.severity === 'error').length;
  return { resources, issues, errors, warnings: issues.length - errors };
}

type Report = (severity: Issue['severity'], path: string, message: string) => void;
/** The last segment of a wire field path as the user spelt it (`token_lifetime` or `tokenLifetime`). */
type Spelling = (path: string) => string;

export function semanticIssues(resources: Resource[], opts: ValidateOptions = {}): Issue[] {
  const out: Issue[] = [];
  const segments = (path: string) => path.split(/\.|\[(\d+)\]/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const issue = (r: Resource, severity: Issue['severity'], path: string, message: string) => {
    const at = r.source.locate?.(segments(path)) ?? { path, line: r.source.line };
    out.push({ severity, file: r.source.file, doc: r.source.doc, line: at.line ?? r.source.line, path: at.path, message });
  };
  const spelling = (r: Resource): Spelling => (path) => String(r.source.locate?.(segments(path)).path.split('.').at(-1) ?? path.split('.').at(-1));

  const apisByName = new Map(resources.filter((r): r is ResourceServerRes => r.kind === 'ResourceServer').map((r) => [r.name, r]));
  for (const r of resources) {
    if (r.kind !== 'ClientGrant' || r.audienceFrom === undefined) continue;
    const api = apisByName.get(r.audienceFrom);
    if (api?.spec.identifier !== undefined) r.spec.audience = api.spec.identifier;
    else issue(r, 'error', 'spec.audience', `value_from names ${r.audienceFrom}, but no Auth0ResourceServer (or ResourceServer) in the manifests has that metadata.name`);
  }

  const unique = new Map<string, Resource>();
  const once = (r: Resource, key: string, path: string, what: string) => {
    const prev = unique.get(key);
    if (prev) issue(r, 'error', path, `${what} is already declared in ${prev.source.file} (document ${prev.source.doc})`);
    else unique.set(key, r);
  };
  const apis = new Map<string, ResourceServerRes>();
  for (const r of resources) {
    // a field the schema refused is absent here: its rules are skipped, the others still run
    if (r.name) once(r, `${r.kind}/name/${r.name}`, 'metadata.name', `${r.kind} ${r.name}`);
    switch (r.kind) {
      case 'ResourceServer':
        if (r.spec.identifier !== undefined) {
          once(r, `api/${r.spec.identifier}`, 'spec.identifier', `an API with identifier ${r.spec.identifier}`);
          if (!apis.has(r.spec.identifier)) apis.set(r.spec.identifier, r);
        }
        resourceServerRules(r, (sev, path, msg) => issue(r, sev, path, msg), spelling(r), opts);
        break;
      case 'Client':
        if (r.spec.name !== undefined) once(r, `client/${r.spec.name}`, 'spec.name', `a client named ${r.spec.name}`);
        // the server refuses javascript:, data: and vbscript: URLs; say so before apply does
        for (const p of clientUrlProblems(r.spec as Record<string, unknown>)) issue(r, 'error', `spec.${p.property}`, p.message);
        break;
      case 'ClientGrant':
        if (r.spec.client !== undefined && r.spec.audience) once(r, `grant/${r.spec.client}/${r.spec.audience}/${r.spec.subject_type ?? 'client'}`, 'spec', `a grant of ${r.spec.audience} to ${r.spec.client} (subject_type ${r.spec.subject_type ?? 'client'})`);
        break;
      case 'Role': if (r.spec.name !== undefined) once(r, `role/${r.spec.name}`, 'spec.name', `a role named ${r.spec.name}`); break;
    }
  }
  for (const r of resources) {
    if (r.kind === 'ClientGrant') {
      const scope = (r.spec.scope ?? []).filter((s): s is string => typeof s === 'string');
      if (r.spec.allow_all_scopes && scope.length) issue(r, 'error', 'spec.scope', 'scope must be empty when allow_all_scopes is true');
      const api = apis.get(r.spec.audience);
      const unknown = api ? scope.filter((s) => !(api.spec.scopes ?? []).some((d) => d?.value === s)) : [];
      if (unknown.length) issue(r, 'error', 'spec.scope', `Scopes not defined on the resource server ${r.spec.audience} (${api!.source.file}): ${unknown.join(', ')}`);
    }
    if (r.kind === 'Role') {
      (r.spec.permissions ?? []).forEach((p, i) => {
        const api = p && apis.get(p.resource_server_identifier);
        if (api && !(api.spec.scopes ?? []).some((d) => d?.value === p.permission_name)) {
          issue(r, 'error', `spec.permissions[${i}].permission_name`, `${p.permission_name} is not a scope of ${p.resource_server_identifier}`);
        }
      });
    }
  }
  return out;
}

/** The rules the server enforces across fields, plus seed 000's "RBAC not working" advice. */
function resourceServerRules(r: ResourceServerRes, report: Report, n: Spelling, opts: ValidateOptions): void {
  const s = r.spec;
  if (s.name === MANAGEMENT_API_NAME) report('error', 'spec.name', `"${MANAGEMENT_API_NAME}" is the system API and cannot be managed from manifests`);
  if (s.identifier !== undefined) reservedIdentifierRule(s.identifier, report, opts);
  const lifetime = s.token_lifetime ?? DEFAULT_TOKEN_LIFETIME;
  if (s.token_lifetime_for_web !== undefined && s.token_lifetime_for_web > lifetime) {
    report('error', 'spec.token_lifetime_for_web', `${n('spec.token_lifetime_for_web')} (${s.token_lifetime_for_web}) cannot be greater than ${n('spec.token_lifetime')} (${lifetime})`);
  }
  const seen = new Map<string, number>();
  (s.scopes ?? []).forEach((scope, i) => {
    if (typeof scope?.value !== 'string') return;
    const prev = seen.get(scope.value);
    if (prev !== undefined) report('error', `spec.scopes[${i}]`, `Array items are not unique (indexes ${prev} and ${i}): scope ${scope.value}`);
    else seen.set(scope.value, i);
  });
  const authz = s.token_dialect?.endsWith('_authz') ?? false;
  const [ep, td] = [n('spec.enforce_policies'), n('spec.token_dialect')];
  if (s.enforce_policies === true && !authz) {
    report('warning', 'spec.enforce_policies', `RBAC is enforced (${ep}: true) but ${td} is not access_token_authz or rfc9068_profile_authz: tokens will carry no permissions claim. Set both to make RBAC work.`);
  }
  if (authz && s.enforce_policies !== true) {
    report('warning', 'spec.enforce_policies', `${td} ${s.token_dialect} adds a permissions claim only when RBAC is enforced: set ${ep}: true.`);
  }
  if (s.signing_secret !== undefined && (s.signing_alg ?? 'RS256') !== 'HS256') report('warning', 'spec.signing_secret', `${n('spec.signing_secret')} is only used with ${n('spec.signing_alg')} HS256`);
  const key = s.token_encryption?.encryption_key;
  if (key) {
    if (key.pem === undefined && key.thumbprint_sha256 === undefined) report('error', 'spec.token_encryption.encryption_key', 'Missing required property: pem');
    const problem = key.pem === undefined ? undefined : encryptionKeyProblem(key.pem);
    if (problem) report('error', 'spec.token_encryption.encryption_key.pem', problem);
  }
}

/**
 * `https://{host}/api/v2/` (and /userinfo, /mfa/, /me/) is reserved on the server at {host}. Offline, that is certain
 * for the target given by --domain, for Auth0 tenants and for local servers (errors); for any other host it is a
 * warning, since only that host's server refuses it.
 */
export function reservedIdentifierRule(identifier: string, report: Report, opts: ValidateOptions): void {
  const m = /^https?:\/\/([^/?#]+)\/(api\/v2\/|userinfo|mfa\/|me\/)$/i.exec(identifier);
  if (!m) return;
  const host = m[1].toLowerCase();
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const what = RESERVED_PATHS[m[2].toLowerCase()];
  const target = opts.domain?.toLowerCase().replace(/^https:\/\//, '').replace(/\/+$/, '');
  const local = hostname === 'localhost' || (isIP(hostname) === 4 && hostname.startsWith('127.')) || hostname === '::1';
  if (local || /(^|\.)auth0\.com$/.test(hostname) || (target !== undefined && (target === host || target.replace(/:\d+$/, '') === hostname))) {
    report('error', 'spec.identifier', `${identifier} is reserved: it is ${what} of the server at ${host}, which refuses it as an API identifier`);
  } else {
    report('warning', 'spec.identifier', `${identifier} has the form of ${what} of a server at ${host}: that server refuses it as an API identifier (reserved)`);
  }
}
