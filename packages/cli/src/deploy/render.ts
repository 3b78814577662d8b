import { SIGN } from './applier';
import { counts, ordered, type Change, type FieldChange, type Plan } from './plan-types';
import type { Issue, Json, Resource } from './types';

export const MASK = '(sensitive value)';

/** Secrets never reach the output: signing secrets are masked, PEMs shortened. */
export function shown(field: string, v: unknown, sensitive = false): unknown {
  if (v === null || v === undefined) return v;
  if (sensitive || field === 'signing_secret') return MASK;
  if (field === 'token_encryption' || field === 'encryption_key') {
    const te = structuredClone(v) as { encryption_key?: { pem?: string } };
    if (te.encryption_key?.pem) te.encryption_key.pem = '(PEM)';
    return te;
  }
  return v;
}

const fmt = (v: unknown) => (v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function fieldLine(f: FieldChange, action: Change['action']): string {
  const after = fmt(shown(f.field, f.after, f.sensitive));
  if (action === 'create') return `      ${f.field}: ${after}`;
  return `      ${f.field}: ${fmt(shown(f.field, f.before, f.sensitive))} → ${after}`;
}

export function renderPlan(plan: Plan, target: string): string {
  const lines = [`Plan for ${target}`, ''];
  for (const c of ordered(plan.changes)) {
    const note = c.action === 'replace' ? ' (requires --allow-replace)' : '';
    lines.push(`  ${SIGN[c.action]} ${c.kind} ${c.name} (${c.key}): ${c.action}${note}`);
    for (const f of c.fields) lines.push(fieldLine(f, c.action));
    if (c.move) {
      lines.push(`      moves ${c.move.grants.length} client grant(s) and the permissions of ${c.move.roles.length} role(s) to ${c.key}, then deletes ${c.move.oldIdentifier}`);
    }
  }
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  const n = counts(plan);
  if (!plan.changes.length) {
    lines.push(`No changes. The target matches the manifests (${n.unchanged} resource(s)).`);
  } else {
    lines.push('', `Plan: ${n.create} to create, ${n.update} to update, ${n.replace} to replace, ${n.delete} to delete; ${n.unchanged} unchanged.`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The machine-readable plan (`--output json`), with the same masking; each change carries its manifest's extra
 * metadata (Project Planton's org, env, labels, …).
 */
export function planJson(plan: Plan, resources: Resource[] = []): Json {
  const metadata = (c: Change) => resources.find((r) => r.kind === c.kind && r.name === c.name)?.metadata;
  return {
    changes: ordered(plan.changes).map((c) => ({
      action: c.action, kind: c.kind, name: c.name, key: c.key, ...(c.id !== undefined && { id: c.id }), ...(metadata(c) && { metadata: metadata(c) }),
      fields: c.fields.map((f) => ({ field: f.field, before: shown(f.field, f.before, f.sensitive) ?? null, after: shown(f.field, f.after, f.sensitive) ?? null })),
      ...(c.move && { replaces: { id: c.move.oldId, identifier: c.move.oldIdentifier, grants: c.move.grants.length, roles: c.move.roles.map((r) => r.name) } }),
    })),
    unchanged: plan.unchanged,
    notes: plan.notes,
    summary: counts(plan),
  };
}

export function renderIssues(issues: Issue[]): string {
  return issues.map((i) => {
    const where = [i.file, i.line !== undefined ? `line ${i.line}` : undefined, i.doc !== undefined ? `document ${i.doc}` : undefined].filter(Boolean).join(', ');
    return `${i.severity}: ${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
  }).join('\n') + (issues.length ? '\n' : '');
}
