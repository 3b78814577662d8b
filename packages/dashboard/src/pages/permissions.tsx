import { useState } from 'react';
import { Check, ErrorMessage, Field } from '../ui';
import { useResourceServers } from './apis';

export interface PermissionRef { resource_server_identifier: string; permission_name: string }
export interface Permission extends PermissionRef { description?: string; resource_server_name?: string }

/** Choose an API, then some of its permissions, and add them (to a role, or directly to a user). */
export function AddPermissions({ onAdd, busy, error }: { onAdd: (permissions: PermissionRef[]) => Promise<unknown>; busy: boolean; error: unknown }) {
  const apis = useResourceServers();
  const [audience, setAudience] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const rs = apis.data?.find((x) => x.identifier === audience);
  const submit = () => onAdd(chosen.map((p) => ({ resource_server_identifier: audience, permission_name: p }))).then(() => setChosen([]), () => undefined);
  return (
    <form className="card" aria-labelledby="add-perms" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 id="add-perms">Add Permissions</h2>
      <Field label="API">{(p) => <select {...p} value={audience} onChange={(e) => { setAudience(e.target.value); setChosen([]); }}>
        <option value="">Select an API…</option>
        {(apis.data ?? []).map((x) => <option key={x.id} value={x.identifier}>{x.name ?? x.identifier}</option>)}
      </select>}</Field>
      {rs && (
        <fieldset>
          <legend>Permissions of {rs.name}</legend>
          {(rs.scopes ?? []).length === 0 && <p className="muted">This API has no permissions.</p>}
          {(rs.scopes ?? []).map((s) => (
            <Check key={s.value} label={s.value} hint={s.description} checked={chosen.includes(s.value)} onChange={(v) => setChosen((x) => (v ? [...x, s.value] : x.filter((y) => y !== s.value)))} />
          ))}
        </fieldset>
      )}
      <ErrorMessage error={error ?? apis.error} />
      <button type="submit" className="primary" disabled={!chosen.length || busy}>Add permissions</button>
    </form>
  );
}

export const permissionKey = (p: PermissionRef) => `${p.resource_server_identifier} ${p.permission_name}`;
