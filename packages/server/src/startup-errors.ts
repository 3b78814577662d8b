import { DatabaseNewerThanCode } from '@tessera/store';
import type { Config } from './config';

const PG_REFUSALS: Record<string, string> = {
  '28P01': 'refused the password',
  '28000': 'refused the login (unknown role or no pg_hba.conf entry)',
  '3D000': 'has no such database',
  '42501': 'refused the privileges Tessera needs',
  '53300': 'has too many connections',
  '57P03': 'is starting up or shutting down',
};

/**
 * Turns what went wrong while opening storage, migrating or listening into one line naming the cause and the
 * variable to change; undefined for anything else (a bug, shown whole by the caller).
 */
export function explainStartupFailure(e: unknown, config: Config): string | undefined {
  if (e instanceof DatabaseNewerThanCode) {
    return `the database was written by a newer Tessera (migration ${e.migration} is unknown to this version): run that version or newer, or point TESSERA_DATABASE_URL at another database`;
  }
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number; severity?: string };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (err && err.syscall === 'listen') {
    const variable = config.mtlsPort !== undefined && err.port === config.mtlsPort ? 'TESSERA_MTLS_PORT' : 'TESSERA_PORT';
    const where = `${err.address ?? config.host}:${err.port ?? config.port}`;
    if (code === 'EADDRINUSE') return `port ${where} is already in use by another process: stop it or change ${variable}`;
    if (code === 'EACCES') return `not allowed to listen on ${where} (ports below 1024 need privileges): change ${variable}`;
    if (code === 'EADDRNOTAVAIL') return `${err.address ?? config.host} is not an address of this machine: change TESSERA_HOST`;
  }
  const postgres = /^postgres(ql)?:/.test(config.databaseUrl);
  if (postgres) {
    const at = safeTarget(config.databaseUrl);
    if (code && PG_REFUSALS[code] && err.severity) return `PostgreSQL at ${at} ${PG_REFUSALS[code]} (${err.message}): check TESSERA_DATABASE_URL`;
    if (code === 'ECONNREFUSED') return `PostgreSQL at ${at} refused the connection (is it running?): check TESSERA_DATABASE_URL`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `PostgreSQL host of ${at} is unknown: check TESSERA_DATABASE_URL`;
    if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `PostgreSQL at ${at} is unreachable (${code}): check TESSERA_DATABASE_URL`;
  } else {
    const file = config.databaseUrl.slice('sqlite:'.length);
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'ENOSPC'].includes(code) && err.syscall !== 'listen') {
      return `cannot write the database ${file} (${code}): point TESSERA_DATABASE_URL at a writable folder`;
    }
    if (code && /^SQLITE_(CANTOPEN|READONLY|PERM|NOTADB|CORRUPT|FULL)/.test(code)) {
      return `cannot use the database ${file} (${code}: ${err.message}): point TESSERA_DATABASE_URL at a writable SQLite file`;
    }
  }
  return undefined;
}

/** The database URL without its password, for messages. */
function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'TESSERA_DATABASE_URL';
  }
}
