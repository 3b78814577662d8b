import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Api } from './api';
import { useRouter } from './router';

export const ApiContext = createContext<Api>(undefined as unknown as Api);
export const useApi = () => useContext(ApiContext);

/** A labelled form control with its hint and the server's error for this field next to it. */
export function Field({ label, hint, error, children }: { label: string; hint?: ReactNode; error?: string; children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': described, 'aria-invalid': error ? true : undefined })}
      {hint && <p className="hint" id={`${id}-hint`}>{hint}</p>}
      {error && <p className="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}

export function Check({ label, checked, onChange, hint, disabled }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="field check">
      <input type="checkbox" id={id} checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{label}</label>
      {hint && <p className="hint" id={`${id}-hint`}>{hint}</p>}
    </div>
  );
}

/** A switch (a checkbox with role=switch) for on/off settings such as "Authorized". */
export function Switch({ label, checked, onChange, disabled }: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <span className="track" aria-hidden="true" /><span className="switch-label">{label}</span>
    </label>
  );
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  return <p className="error" role="alert">{e.message ?? String(error)}{e.errorCode ? <span className="code"> ({e.errorCode})</span> : null}</p>;
}

export function Loading() { return <p className="muted" aria-live="polite">Loading…</p>; }

export function Tabs({ tabs, current, onSelect, label }: { tabs: Array<{ id: string; label: string }>; current: string; onSelect: (id: string) => void; label: string }) {
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map((t) => (
        <button key={t.id} role="tab" type="button" id={`tab-${t.id}`} aria-selected={t.id === current} aria-controls={`panel-${t.id}`} tabIndex={t.id === current ? 0 : -1}
          className={t.id === current ? 'tab active' : 'tab'} onClick={() => onSelect(t.id)}
          onKeyDown={(e) => {
            // WAI-ARIA tabs: arrows move to the next/previous tab, Home/End to the first/last; focus follows the selection
            const i = tabs.findIndex((x) => x.id === current);
            const to = { ArrowRight: (i + 1) % tabs.length, ArrowLeft: (i - 1 + tabs.length) % tabs.length, Home: 0, End: tabs.length - 1 }[e.key];
            if (to === undefined) return;
            e.preventDefault();
            onSelect(tabs[to].id);
            (e.currentTarget.parentElement?.querySelector(`#tab-${CSS.escape(tabs[to].id)}`) as HTMLElement | null)?.focus();
          }}>{t.label}</button>
      ))}
    </div>
  );
}

/**
 * A confirmation in a modal <dialog> (focus trapped and Escape handled by the browser): what will happen and what
 * breaks, and a button naming the action. It opens with the focus on Cancel, so Enter never confirms by accident.
 */
export function Confirm({ open, title, children, action, danger, onConfirm, onCancel, busy }: {
  open: boolean; title: string; children: ReactNode; action: string; danger?: boolean; busy?: boolean;
  onConfirm: () => void; onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) { d.showModal(); cancel.current?.focus(); }
    if (!open && d.open) d.close();
  }, [open]);
  const titleId = useId();
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="actions">
        <button type="button" className="secondary" ref={cancel} onClick={onCancel}>Cancel</button>
        <button type="button" className={danger ? 'danger' : 'primary'} disabled={busy} onClick={onConfirm}>{action}</button>
      </div>
    </dialog>
  );
}

/** Text with a copy button. */
export function Copyable({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copyable">
      <pre tabIndex={0} aria-label={label}><code>{value}</code></pre>
      <button type="button" className="secondary small" onClick={async () => { await navigator.clipboard?.writeText(value).catch(() => undefined); setCopied(true); setTimeout(() => setCopied(false), 1500); }}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

export function PageHeader({ title, children, subtitle }: { title: string; subtitle?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div><h1>{title}</h1>{subtitle && <p className="muted">{subtitle}</p>}</div>
      {children && <div className="header-actions">{children}</div>}
    </header>
  );
}

/** The field an error belongs to, for errors shown next to form fields. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/** The error for a nested property (`default_token_quota.clients.client_credentials.per_hour`), for forms of nested bodies. */
export function pathError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError && error.path === path ? error.message : undefined;
}

/** An error that belongs to no field (shown at the top of the form). */
export function formError(error: unknown, fields: string[]): unknown {
  return error instanceof ApiError && error.field && fields.includes(error.field) ? undefined : error;
}

/** A list page: its header with the "+ Create" button, the create form while open, then the list. */
export function ListPage({ title, subtitle, createLabel, create, children }: {
  title: string; subtitle?: ReactNode; createLabel?: string; create?: (close: () => void) => ReactNode; children: ReactNode;
}) {
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader title={title} subtitle={subtitle}>
        {create && createLabel && <button type="button" className="primary" onClick={() => setCreating(true)}>{createLabel}</button>}
      </PageHeader>
      {creating && create?.(() => setCreating(false))}
      {children}
    </>
  );
}

/** Creates a resource, refreshes the list it belongs to and opens its page. */
export function useCreate<T>(listKey: string, post: () => Promise<T>, pageOf: (created: T) => string) {
  const queries = useQueryClient();
  const { navigate } = useRouter();
  return useMutation({ mutationFn: post, onSuccess: (r) => { void queries.invalidateQueries({ queryKey: [listKey] }); navigate(pageOf(r)); } });
}

/** The create form of a list page: the server's error next to the field it names (`fields`), any other at the top. */
export function CreateCard({ title, error, fields, busy, onSubmit, onCancel, children }: {
  title: string; error: unknown; fields: string[]; busy: boolean; onSubmit: () => void; onCancel: () => void; children: ReactNode;
}) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  // opened from its "+ Create" button: the keyboard continues in the form's first field
  useEffect(() => { form.current?.querySelector<HTMLElement>('input, select, textarea')?.focus(); }, []);
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <form ref={form} onSubmit={(e) => { e.preventDefault(); onSubmit(); }} noValidate>
        <ErrorMessage error={formError(error, fields)} />
        {children}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>Create</button>
        </div>
      </form>
    </section>
  );
}

/**
 * A table of resources: a caption for screen readers, column heads ('' for an actions column), a row saying the
 * list is empty, and the loading and error states of its query.
 */
export function DataTable<T>({ caption, columns, rows, rowKey, row, empty, loading, error }: {
  caption: string; columns: string[]; rows: T[] | undefined; rowKey: (r: T) => string; row: (r: T) => ReactNode;
  empty: string; loading?: boolean; error?: unknown;
}) {
  return (
    <>
      <ErrorMessage error={error} />
      {loading ? <Loading /> : (
        <div className="table-scroll"><table className="list">
          <caption className="sr-only">{caption}</caption>
          <thead><tr>{columns.map((c, i) => <th key={i} scope="col">{c || <span className="sr-only">Actions</span>}</th>)}</tr></thead>
          <tbody>
            {(rows ?? []).length === 0 && <tr><td colSpan={columns.length} className="muted">{empty}</td></tr>}
            {(rows ?? []).map((r) => <tr key={rowKey(r)}>{row(r)}</tr>)}
          </tbody>
        </table></div>
      )}
    </>
  );
}

/** Picks one of `options` and applies `action` to it (assign a role, add a member…); the choice clears once it succeeded. */
export function Picker({ label, formLabel, placeholder, options, action, busy, onPick }: {
  label: string; formLabel: string; placeholder: string; options: Array<{ value: string; label: string }>; action: string; busy?: boolean;
  onPick: (value: string) => Promise<unknown>;
}) {
  const [value, setValue] = useState('');
  return (
    <form className="inline-form" aria-label={formLabel} onSubmit={(e) => { e.preventDefault(); onPick(value).then(() => setValue(''), () => undefined); }}>
      <Field label={label}>{(p) => <select {...p} value={value} onChange={(e) => setValue(e.target.value)}>
        <option value="">{placeholder}</option>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>}</Field>
      <button type="submit" className="primary" disabled={!value || busy}>{action}</button>
    </form>
  );
}

/** A remove button in a table row, named after what it removes. */
export function RemoveButton({ what, onClick, label = 'Remove' }: { what: string; onClick: () => void; label?: string }) {
  return <button type="button" className="secondary small" aria-label={`${label} ${what}`} onClick={onClick}>{label}</button>;
}
