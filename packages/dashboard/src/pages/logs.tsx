import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from '../router';
import { DataTable, ErrorMessage, Field, fieldError, formError, Loading, PageHeader, useApi } from '../ui';
import { useClients } from './applications';
import { useUsers } from './roles';

export interface LogEvent {
  log_id: string; date: string; type: string; description?: string; client_id?: string; client_name?: string; ip?: string; user_agent?: string;
  user_id?: string; user_name?: string; audience?: string; scope?: string; connection?: string; hostname?: string; details?: Record<string, unknown>;
}

/** Auth0's event codes that Tessera records (docs/compatibility.md, Tenant logs). */
export const EVENT_TYPES: Record<string, string> = {
  s: 'Success Login', f: 'Failed Login', fp: 'Failed Login (Incorrect Password)', fu: 'Failed Login (Invalid Email/Username)',
  ssa: 'Success Silent Auth', fsa: 'Failed Silent Auth', slo: 'Success Logout', limit_wc: 'Blocked Account', limit_mu: 'Blocked IP Address',
  seccft: 'Success Exchange (Client Credentials)', feccft: 'Failed Exchange (Client Credentials)',
  seacft: 'Success Exchange (Authorization Code)', feacft: 'Failed Exchange (Authorization Code)',
  sertft: 'Success Exchange (Refresh Token)', fertft: 'Failed Exchange (Refresh Token)',
  sepft: 'Success Exchange (Password)', fepft: 'Failed Exchange (Password)',
  seotpft: 'Success Exchange (MFA OTP)', feotpft: 'Failed Exchange (MFA OTP)', sercft: 'Success Exchange (MFA Recovery Code)', fercft: 'Failed Exchange (MFA Recovery Code)',
  sapi: 'Success API Operation', fapi: 'Failed API Operation',
};
const PER_PAGE = 25;
const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;

interface Filters { type: string; client: string; user: string; q: string }
/** The filters as Auth0's log search (`q`): each one a term, joined by AND with the advanced query. */
export function logQuery(f: Filters): string {
  return [f.type && `type:${quote(f.type)}`, f.client && `client_id:${quote(f.client)}`, f.user && `user_id:${quote(f.user)}`, f.q.trim()].filter(Boolean).join(' AND ');
}

/** The tenant log (GET /api/v2/logs): newest first, filtered by type, application and user, a page at a time. */
export function AuditLog() {
  const api = useApi();
  const users = useUsers();
  const clients = useClients({ fresh: true });
  const blank: Filters = { type: '', client: '', user: '', q: '' };
  const [draft, setDraft] = useState<Filters>(blank);
  const [applied, setApplied] = useState<Filters>(blank);
  const [page, setPage] = useState(0);
  const q = logQuery(applied);
  const logs = useQuery({
    queryKey: ['logs', q, page], placeholderData: keepPreviousData,
    queryFn: () => api.get<{ start: number; length: number; total: number; logs: LogEvent[] }>(`/logs?include_totals=true&per_page=${PER_PAGE}&page=${page}&sort=date:-1${q ? `&q=${encodeURIComponent(q)}` : ''}`),
  });
  const search = (e: FormEvent) => { e.preventDefault(); setApplied(draft); setPage(0); };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((x) => ({ ...x, [k]: e.target.value }));
  const total = logs.data?.total ?? 0;
  const first = (logs.data?.start ?? 0) + 1;
  return (
    <>
      <PageHeader title="Logs" subtitle="Tenant events: logins, token exchanges and Management API changes, newest first." />
      <form className="inline-form" aria-label="Filter logs" noValidate onSubmit={search}>
        <Field label="Event type">{(p) => <select {...p} value={draft.type} onChange={set('type')}>
          <option value="">All events</option>
          {Object.entries(EVENT_TYPES).map(([code, label]) => <option key={code} value={code}>{label} ({code})</option>)}
        </select>}</Field>
        <Field label="Application">{(p) => <select {...p} value={draft.client} onChange={set('client')}>
          <option value="">All applications</option>
          {(clients.data ?? []).map((c) => <option key={c.client_id} value={c.client_id}>{c.name}</option>)}
        </select>}</Field>
        <Field label="User">{(p) => <select {...p} value={draft.user} onChange={set('user')}>
          <option value="">All users</option>
          {(users.data ?? []).map((u) => <option key={u.user_id} value={u.user_id}>{u.email ?? u.user_id}</option>)}
        </select>}</Field>
        <Field label="Query" hint='Lucene subset, e.g. date:[2026-12-01 TO *]' error={fieldError(logs.error, 'q')}>{(p) => <input {...p} value={draft.q} onChange={set('q')} />}</Field>
        <button type="submit" className="primary">Search</button>
      </form>
      <DataTable caption="Log events" columns={['Date', 'Event', 'Description', 'Application', 'User']} rows={logs.data?.logs} rowKey={(l) => l.log_id}
        empty="No events match." loading={logs.isLoading} error={formError(logs.error, ['q'])}
        row={(l) => <>
          <td><Link to={`/logs/${encodeURIComponent(l.log_id)}`}>{new Date(l.date).toLocaleString()}</Link></td>
          <td><span className={`badge ${l.type.startsWith('f') || l.type.startsWith('limit') ? 'revoked' : ''}`}>{EVENT_TYPES[l.type] ?? l.type}</span> <code className="small">{l.type}</code></td>
          <td>{l.description}</td><td>{l.client_name ?? l.client_id}</td><td>{l.user_name ?? l.user_id}</td>
        </>} />
      {total > 0 && (
        <nav className="pager" aria-label="Log pages">
          <span role="status">{first}–{first + (logs.data?.length ?? 0) - 1} of {total}</span>
          <button type="button" className="secondary small" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>Previous</button>
          <button type="button" className="secondary small" disabled={first - 1 + PER_PAGE >= total} onClick={() => setPage((p) => p + 1)}>Next</button>
        </nav>
      )}
    </>
  );
}

/** One event with every field it carries. */
export function LogDetail({ id }: { id: string }) {
  const api = useApi();
  const { data: log, error, isLoading } = useQuery({ queryKey: ['log', id], queryFn: () => api.get<LogEvent>(`/logs/${encodeURIComponent(id)}`) });
  if (isLoading) return <Loading />;
  if (!log) return <ErrorMessage error={error} />;
  const rows: Array<[string, string | undefined]> = [
    ['Type', `${EVENT_TYPES[log.type] ?? log.type} (${log.type})`], ['Date', log.date], ['Description', log.description], ['Application', log.client_name && `${log.client_name} (${log.client_id})`],
    ['Client ID', log.client_name ? undefined : log.client_id], ['User', log.user_name ? `${log.user_name} (${log.user_id})` : log.user_id], ['Audience', log.audience], ['Scope', log.scope],
    ['Connection', log.connection], ['IP address', log.ip], ['User agent', log.user_agent], ['Log ID', log.log_id],
  ];
  return (
    <>
      <p><Link to="/logs">← Back to Logs</Link></p>
      <PageHeader title={EVENT_TYPES[log.type] ?? log.type} subtitle={new Date(log.date).toLocaleString()} />
      <dl className="facts">
        {rows.filter(([, v]) => v).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
      </dl>
      <h2>Raw event</h2>
      <pre className="json" tabIndex={0} aria-label="Raw event" data-testid="log-raw">{JSON.stringify(log, null, 2)}</pre>
    </>
  );
}
