import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, numberOrText } from '../api';
import { Check, ErrorMessage, Field, Loading, PageHeader, pathError, useApi } from '../ui';

/** Auth0's `token_quota.client_credentials`. */
interface Quota { enforce?: boolean; per_hour?: number; per_day?: number }
/** What `GET /api/v2/tenants/settings` answers (the one tenant setting Tessera keeps). */
interface TenantSettings { default_token_quota?: { clients?: { client_credentials: Quota }; organizations?: { client_credentials: Quota } } }

type Subject = 'clients' | 'organizations';
interface QuotaForm { per_hour: string; per_day: string; enforce: boolean }
type SettingsForm = Record<Subject, QuotaForm>;

const quotaForm = (q?: Quota): QuotaForm => ({ per_hour: q?.per_hour === undefined ? '' : String(q.per_hour), per_day: q?.per_day === undefined ? '' : String(q.per_day), enforce: q?.enforce ?? true });
const formOf = (s: TenantSettings): SettingsForm => ({
  clients: quotaForm(s.default_token_quota?.clients?.client_credentials), organizations: quotaForm(s.default_token_quota?.organizations?.client_credentials),
});

/**
 * The PATCH body: `default_token_quota` replaces the stored one whole, so the form is sent whole. A subject with no
 * limit is left out (a quota without a limit limits nothing); with neither, the default is removed (`null`).
 */
function bodyOf(f: SettingsForm): { default_token_quota: Record<string, unknown> | null } {
  const quota: Record<string, unknown> = {};
  for (const subject of ['clients', 'organizations'] as const) {
    const q = f[subject];
    if (!q.per_hour.trim() && !q.per_day.trim()) continue;
    quota[subject] = { client_credentials: {
      enforce: q.enforce, ...(q.per_hour.trim() ? { per_hour: numberOrText(q.per_hour) } : {}), ...(q.per_day.trim() ? { per_day: numberOrText(q.per_day) } : {}),
    } };
  }
  return { default_token_quota: Object.keys(quota).length ? quota : null };
}

const SUBJECTS: Array<{ id: Subject; legend: string; hint: string }> = [
  { id: 'clients', legend: 'Applications', hint: 'Every client credentials token of an application that has no token quota of its own.' },
  { id: 'organizations', legend: 'Organizations', hint: 'Client credentials tokens issued for an organization (the organization parameter), per organization without a quota of its own; counted besides the application\'s quota.' },
];

/** The tenant's settings (GET/PATCH /api/v2/tenants/settings): today the default token quotas. */
export function TenantSettingsPage() {
  const api = useApi();
  const queries = useQueryClient();
  const { data, error, isLoading } = useQuery({ queryKey: ['tenant-settings'], queryFn: () => api.get<TenantSettings>('/tenants/settings') });
  const [f, setF] = useState<SettingsForm>(() => formOf({}));
  const [saved, setSaved] = useState(false);
  useEffect(() => { if (data) setF(formOf(data)); }, [data]);
  const save = useMutation({
    mutationFn: () => api.patch<TenantSettings>('/tenants/settings', bodyOf(f)),
    onSuccess: (next) => { queries.setQueryData(['tenant-settings'], next); setSaved(true); },
  });
  const set = <K extends keyof QuotaForm>(subject: Subject, k: K) => (v: QuotaForm[K]) => { setF((x) => ({ ...x, [subject]: { ...x[subject], [k]: v } })); setSaved(false); };
  const err = (subject: Subject, k: string) => pathError(save.error, `default_token_quota.${subject}.client_credentials.${k}`);
  const shown = new Set(SUBJECTS.flatMap((s) => ['per_hour', 'per_day', 'enforce'].map((k) => `default_token_quota.${s.id}.client_credentials.${k}`)));
  const topError = save.error instanceof ApiError && save.error.path && shown.has(save.error.path) ? undefined : save.error;
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <>
      <PageHeader title="Settings" subtitle={<>The tenant's settings kept through the Management API (<code>/api/v2/tenants/settings</code>).</>} />
      {isLoading ? <Loading /> : error ? <ErrorMessage error={error} /> : (
        <form onSubmit={submit} noValidate className="settings card">
          <h2>Default Token Quotas</h2>
          <p>How many access tokens the client credentials grant issues when an application or organization has no <code>token_quota</code> of its own.
            Hourly windows reset on the UTC hour, daily ones at 00:00 UTC; only issued tokens count. Leave both limits empty for no limit.</p>
          {SUBJECTS.map((s) => (
            <fieldset key={s.id}>
              <legend>{s.legend}</legend>
              <p className="hint">{s.hint}</p>
              <Field label="Tokens per hour" hint="1 to 2147483647." error={err(s.id, 'per_hour')}>
                {(p) => <input {...p} inputMode="numeric" value={f[s.id].per_hour} onChange={(e) => set(s.id, 'per_hour')(e.target.value)} />}
              </Field>
              <Field label="Tokens per day" hint="1 to 2147483647." error={err(s.id, 'per_day')}>
                {(p) => <input {...p} inputMode="numeric" value={f[s.id].per_day} onChange={(e) => set(s.id, 'per_day')(e.target.value)} />}
              </Field>
              <Check label="Enforce" checked={f[s.id].enforce} onChange={set(s.id, 'enforce')}
                hint="On: a token over the quota is refused (429 too_many_requests). Off: it is issued and the excess is logged." />
              {err(s.id, 'enforce') && <p className="field-error" role="alert">{err(s.id, 'enforce')}</p>}
            </fieldset>
          ))}
          <ErrorMessage error={topError} />
          {saved && <p className="success" role="status">Settings saved.</p>}
          <div className="actions"><button type="submit" className="primary" disabled={save.isPending}>Save</button></div>
          <p className="muted small">Until these defaults are first saved, they are what <code>TESSERA_TOKEN_QUOTA_CLIENTS</code> and <code>TESSERA_TOKEN_QUOTA_ORGANIZATIONS</code> say;
            once saved (also empty), the saved value alone applies. Other tenant-wide settings are environment variables (<code>tessera serve --help</code>).</p>
        </form>
      )}
    </>
  );
}
