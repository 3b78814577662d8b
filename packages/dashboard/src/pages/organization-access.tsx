import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Check, DataTable, ErrorMessage, Field, Loading, Switch, useApi } from '../ui';
import { useResourceServers, type ClientGrant } from './apis';
import { useClients } from './applications';
import type { Organization } from './organizations';

interface Connection { id: string; name: string; strategy: string }
interface EnabledConnection { connection_id: string; assign_membership_on_login?: boolean; show_as_button?: boolean; is_signup_enabled?: boolean }
interface Grant extends ClientGrant { organization_usage?: 'deny' | 'allow' | 'require'; allow_any_organization?: boolean }

/** The connections members may log in to this organization with: enable or disable each, and membership on login. */
export function OrganizationConnections({ org }: { org: Organization }) {
  const api = useApi();
  const path = `/organizations/${encodeURIComponent(org.id)}/enabled_connections`;
  const all = useQuery({ queryKey: ['connections'], queryFn: () => api.get<Connection[]>('/connections?per_page=100') });
  const enabled = useQuery({ queryKey: ['org-connections', org.id], queryFn: () => api.get<EnabledConnection[]>(`${path}?per_page=100`) });
  if (all.isLoading || enabled.isLoading) return <Loading />;
  return (
    <>
      <p>Users log in to this organization only through the connections enabled here.</p>
      <ErrorMessage error={all.error ?? enabled.error} />
      <ul className="m2m">
        {(all.data ?? []).map((c) => <ConnectionRow key={c.id} org={org} connection={c} settings={enabled.data?.find((e) => e.connection_id === c.id)} />)}
      </ul>
    </>
  );
}

function ConnectionRow({ org, connection, settings }: { org: Organization; connection: Connection; settings?: EnabledConnection }) {
  const api = useApi();
  const queries = useQueryClient();
  const path = `/organizations/${encodeURIComponent(org.id)}/enabled_connections`;
  const done = () => void queries.invalidateQueries({ queryKey: ['org-connections', org.id] });
  const toggle = useMutation({
    mutationFn: (on: boolean) => (on ? api.post(path, { connection_id: connection.id }) : api.del(`${path}/${encodeURIComponent(connection.id)}`)),
    onSuccess: done,
  });
  const update = useMutation({ mutationFn: (assign: boolean) => api.patch(`${path}/${encodeURIComponent(connection.id)}`, { assign_membership_on_login: assign }), onSuccess: done });
  return (
    <li className="m2m-row">
      <div className="m2m-head">
        <div><strong>{connection.name}</strong> <span className="muted small">{connection.strategy}</span></div>
        <Switch label={settings ? `${connection.name} enabled` : `${connection.name} disabled`} checked={!!settings} disabled={toggle.isPending} onChange={(on) => toggle.mutate(on)} />
      </div>
      {settings && (
        <Check label="Assign membership on login" hint="Users of this connection who log in through the organization become members." checked={settings.assign_membership_on_login ?? false}
          disabled={update.isPending} onChange={(v) => update.mutate(v)} />
      )}
      <ErrorMessage error={toggle.error ?? update.error} />
    </li>
  );
}

const USAGE = [{ id: 'deny', label: 'Deny' }, { id: 'allow', label: 'Allow' }, { id: 'require', label: 'Require' }];

/**
 * Machine-to-machine access: which client grants may be used with this organization (client credentials with
 * `organization`). A grant also needs its organization use set to allow or require, which applies to every organization.
 */
export function OrganizationM2m({ org }: { org: Organization }) {
  const api = useApi();
  const apis = useResourceServers();
  const grants = useQuery({ queryKey: ['client-grants', 'all'], queryFn: async () => (await api.get<Grant[]>('/client-grants?per_page=100')).filter((g) => (g.subject_type ?? 'client') === 'client') });
  const clients = useClients();
  const linked = useQuery({ queryKey: ['org-client-grants', org.id], queryFn: () => api.get<Grant[]>(`/organizations/${encodeURIComponent(org.id)}/client-grants?per_page=100`) });
  const clientName = (id: string) => clients.data?.find((c) => c.client_id === id)?.name ?? id;
  const apiName = (aud: string) => apis.data?.find((r) => r.identifier === aud)?.name ?? aud;
  return (
    <>
      <p>Applications get tokens for this organization with the client credentials grant and the <code>organization</code> parameter only through the client grants linked here.</p>
      {(grants.data ?? []).length === 0 && !grants.isLoading && <p className="muted">No client grants yet: authorize an application on an API's Machine to Machine Applications tab first.</p>}
      <DataTable caption={`Client grants of ${org.display_name ?? org.name}`} columns={['Application', 'API', 'Organization use (all organizations)', 'Access']} rows={grants.data} rowKey={(g) => g.id}
        empty="No client grants." loading={grants.isLoading || linked.isLoading} error={grants.error ?? linked.error ?? clients.error}
        row={(g) => <GrantRow org={org} grant={g} linked={(linked.data ?? []).some((l) => l.id === g.id)} label={`${clientName(g.client_id)} on ${apiName(g.audience)}`}
          client={clientName(g.client_id)} api={apiName(g.audience)} />} />
    </>
  );
}

function GrantRow({ org, grant, linked, label, client, api: apiLabel }: { org: Organization; grant: Grant; linked: boolean; label: string; client: string; api: string }) {
  const api = useApi();
  const queries = useQueryClient();
  const link = useMutation({
    mutationFn: (on: boolean) => (on
      ? api.post(`/organizations/${encodeURIComponent(org.id)}/client-grants`, { grant_id: grant.id })
      : api.del(`/organizations/${encodeURIComponent(org.id)}/client-grants/${encodeURIComponent(grant.id)}`)),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['org-client-grants', org.id] }),
  });
  const usage = useMutation({
    mutationFn: (value: string) => api.patch(`/client-grants/${encodeURIComponent(grant.id)}`, { organization_usage: value }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['client-grants'] }),
  });
  return (
    <>
      <td>{client}</td>
      <td>{apiLabel}</td>
      <td>
        <Field label={`Organization use of ${label}`}>{(p) => <select {...p} value={grant.organization_usage ?? 'deny'} disabled={usage.isPending} onChange={(e) => usage.mutate(e.target.value)}>
          {USAGE.map((u) => <option key={u.id} value={u.id}>{u.label}</option>)}
        </select>}</Field>
        <ErrorMessage error={usage.error} />
      </td>
      <td>
        <Switch label={linked ? `Access for ${label}` : `No access for ${label}`} checked={linked} disabled={link.isPending} onChange={(on) => link.mutate(on)} />
        <ErrorMessage error={link.error} />
      </td>
    </>
  );
}
