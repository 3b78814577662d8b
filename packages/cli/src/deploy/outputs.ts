import { MASK } from './render';
import type { Json, ResourceServerRes } from './types';

/** Seed 000's outputs table, in its order; signing_secret is sensitive. */
export const OUTPUT_FIELDS = [
  'id', 'identifier', 'name', 'signing_alg', 'signing_secret', 'token_lifetime', 'token_lifetime_for_web',
  'allow_offline_access', 'enforce_policies', 'token_dialect', 'is_system', 'client_id',
] as const;

export type Outputs = Record<string, Record<(typeof OUTPUT_FIELDS)[number], unknown>>;

/** Outputs per ResourceServer manifest (keyed by metadata.name), read back from the target. */
export function outputsFor(apis: ResourceServerRes[], live: Json[], showSecrets: boolean): Outputs {
  const out: Outputs = {};
  for (const r of apis) {
    const v = live.find((x) => x.identifier === r.spec.identifier);
    if (!v) continue;
    const secret = v.signing_secret ?? null;
    out[r.name] = {
      id: v.id, identifier: v.identifier, name: v.name ?? null, signing_alg: v.signing_alg ?? 'RS256',
      signing_secret: secret === null || showSecrets ? secret : MASK,
      token_lifetime: v.token_lifetime, token_lifetime_for_web: v.token_lifetime_for_web,
      allow_offline_access: v.allow_offline_access ?? false, enforce_policies: v.enforce_policies ?? false,
      token_dialect: v.token_dialect ?? 'access_token', is_system: v.is_system ?? false, client_id: v.client_id ?? null,
    };
  }
  return out;
}

export function renderOutputs(outputs: Outputs): string {
  const names = Object.keys(outputs);
  if (!names.length) return '';
  const width = Math.max(...OUTPUT_FIELDS.map((f) => f.length)) + 2;
  const lines = ['', 'Outputs:'];
  for (const name of names) {
    lines.push(`  ${name}`);
    for (const f of OUTPUT_FIELDS) {
      const v = outputs[name][f];
      lines.push(`    ${f.padEnd(width)}${v === null ? '(none)' : String(v)}`);
    }
  }
  return lines.join('\n') + '\n';
}
