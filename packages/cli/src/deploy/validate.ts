import { clientUrlProblems, encryptionKeyProblem } from '@tessera/core';
import { loadManifests } from './manifest';
import { MANAGEMENT_API_NAME, type Issue, type Resource, type ResourceServerRes } from './types';

export const DEFAULT_TOKEN_LIFETIME = 86400;
export const DEFAULT_TOKEN_LIFETIME_FOR_WEB = 7200;

export interface Validated { resources: Resource[]; issues: Issue[]; errors: number; warnings: number }

/** Loads, schema-checks and applies the server's cross-field rules; every finding names file, document and field. */
export function validateManifests(paths: string[]): Validated {
  const { resources, issues } = loadManifests(paths);
  issues.push(...semanticIssues(resources));
  issues.sort((a, b) => a.file.localeCompare(b.file) || (a.doc ?? 0) - (b.doc ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  const errors = issues.filter((i) => i.severity === 'error').length;
  return { resources, issues, errors, warnings: issues.length - errors };
}

export function semanticIssues(resources: Resource[]): Issue[] {
  const out: Issue[] = [];
  const issue = (r: Resource, severity: Issue['severity'], path: string, message: string) => {
    const segments = path.split(/\.|\[(\d+)\]/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    out.push({ severity, file: r.source.file, doc: r.source.doc, line: r.source.lineOf?.(segments) ?? r.source.line, path, message });
  };

  const unique = new Map<string, Resource>();
  const once = (r: Resource, key: string, path: string, what: string) => {
    const prev = unique.get(key);
    if (prev) issue(r, 'error', path, `${what} is already declared in ${prev.source.file} (document ${prev.source.doc})`);
    else unique.set(key, r);
  };
  const apis = new Map<string, ResourceServerRes>();
  for (const r of resources) {
    once(r, `${r.kind}/name/${r.name}`, 'metadata.name', `${r.kind} ${r.name}`);
    switch (r.kind) {
      case 'ResourceServer':
        once(r, `api/${r.spec.identifier}`, 'spec.identifier', `an API with identifier ${r.spec.identifier}`);
        if (!apis.has(r.spec.identifier)) apis.set(r.spec.identifier, r);
        resourceServerRules(r, (sev, path, msg) => issue(r, sev, path, msg));
        break;
      case 'Client':
        once(r, `client/${r.spec.name}`, 'spec.name', `a client named ${r.spec.name}`);
        // the server refuses javascript:, data: and vbscript: URLs; say so before apply does
        for (const p of clientUrlProblems(r.spec as Record<string, unknown>)) issue(r, 'error', `spec.${p.property}`, p.message);
        break;
      case 'ClientGrant': once(r, `grant/${r.spec.client}/${r.spec.audience}/${r.spec.subject_type ?? 'client'}`, 'spec', `a grant of ${r.spec.audience} to ${r.spec.client} (subject_type ${r.spec.subject_type ?? 'client'})`); break;
      case 'Role': once(r, `role/${r.spec.name}`, 'spec.name', `a role named ${r.spec.name}`); break;
    }
  }
  for (const r of resources) {
    if (r.kind === 'ClientGrant') {
      if (r.spec.allow_all_scopes && r.spec.scope?.length) issue(r, 'error', 'spec.scope', 'scope must be empty when allow_all_scopes is true');
      const api = apis.get(r.spec.audience);
      const unknown = api ? (r.spec.scope ?? []).filter((s) => !(api.spec.scopes ?? []).some((d) => d.value === s)) : [];
      if (unknown.length) issue(r, 'error', 'spec.scope', `Scopes not defined on the resource server ${r.spec.audience} (${api!.source.file}): ${unknown.join(', ')}`);
    }
    if (r.kind === 'Role') {
      (r.spec.permissions ?? []).forEach((p, i) => {
        const api = apis.get(p.resource_server_identifier);
        if (api && !(api.spec.scopes ?? []).some((d) => d.value === p.permission_name)) {
          issue(r, 'error', `spec.permissions[${i}].permission_name`, `${p.permission_name} is not a scope of ${p.resource_server_identifier}`);
        }
      });
    }
  }
  return out;
}

type Report = (severity: Issue['severity'], path: string, message: string) => void;

/** The rules the server enforces across fields, plus seed 000's "RBAC not working" advice. */
function resourceServerRules(r: ResourceServerRes, report: Report): void {
  const s = r.spec;
  if (s.name === MANAGEMENT_API_NAME) report('error', 'spec.name', `"${MANAGEMENT_API_NAME}" is the system API and cannot be managed from manifests`);
  const lifetime = s.token_lifetime ?? DEFAULT_TOKEN_LIFETIME;
  if (s.token_lifetime_for_web !== undefined && s.token_lifetime_for_web > lifetime) {
    report('error', 'spec.token_lifetime_for_web', `token_lifetime_for_web (${s.token_lifetime_for_web}) cannot be greater than token_lifetime (${lifetime})`);
  }
  const seen = new Map<string, number>();
  (s.scopes ?? []).forEach((scope, i) => {
    const prev = seen.get(scope.value);
    if (prev !== undefined) report('error', `spec.scopes[${i}]`, `Array items are not unique (indexes ${prev} and ${i}): scope ${scope.value}`);
    else seen.set(scope.value, i);
  });
  const authz = s.token_dialect?.endsWith('_authz') ?? false;
  if (s.enforce_policies === true && !authz) {
    report('warning', 'spec.enforce_policies', 'RBAC is enforced (enforce_policies: true) but token_dialect is not access_token_authz or rfc9068_profile_authz: tokens will carry no permissions claim. Set both to make RBAC work.');
  }
  if (authz && s.enforce_policies !== true) {
    report('warning', 'spec.enforce_policies', `token_dialect ${s.token_dialect} adds a permissions claim only when RBAC is enforced: set enforce_policies: true.`);
  }
  if (s.signing_secret !== undefined && (s.signing_alg ?? 'RS256') !== 'HS256') report('warning', 'spec.signing_secret', 'signing_secret is only used with signing_alg HS256');
  const key = s.token_encryption?.encryption_key;
  if (key) {
    if (key.pem === undefined && key.thumbprint_sha256 === undefined) report('error', 'spec.token_encryption.encryption_key', 'Missing required property: pem');
    const problem = key.pem === undefined ? undefined : encryptionKeyProblem(key.pem);
    if (problem) report('error', 'spec.token_encryption.encryption_key.pem', problem);
  }
}
