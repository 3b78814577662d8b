import { createContext, useContext, useEffect, useState, type ReactNode, type MouseEvent } from 'react';

const BASE = '/dashboard';
const RouterContext = createContext<{ path: string; navigate: (to: string) => void }>({ path: '/', navigate: () => undefined });

/** A tiny history router: paths below /dashboard. */
export function Router({ children }: { children: ReactNode }) {
  const current = () => location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  const [path, setPath] = useState(current);
  useEffect(() => {
    const onPop = () => setPath(current());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = (to: string) => { history.pushState({}, '', BASE + to); setPath(to); window.scrollTo(0, 0); };
  return <RouterContext.Provider value={{ path, navigate }}>{children}</RouterContext.Provider>;
}

export const useRouter = () => useContext(RouterContext);

export function Link({ to, children, className, ...rest }: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' | undefined }) {
  const { navigate } = useRouter();
  const onClick = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={onClick} className={className} {...rest}>{children}</a>;
}

/** Matches `/apis/:id/:tab` against a path; undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const optional = p[i].endsWith('?');
    const name = p[i].replace(/^:|\?$/g, '');
    if (s[i] === undefined) { if (optional) continue; return undefined; }
    if (p[i].startsWith(':')) out[name] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return undefined;
  }
  return s.length <= p.length ? out : undefined;
}
