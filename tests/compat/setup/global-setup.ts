import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { PG_ADMIN_URL, createTestDatabase, postgresAvailable, type TestDatabase } from '../../helpers/databases';
import { makeCerts } from './certs';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, startServer, tail, type RunningServer } from './server';
import type { Target } from './targets';

/**
 * Makes the CA and server certificate, then starts the real server twice (fresh SQLite file, fresh PostgreSQL
 * database) over HTTPS on loopback. Workers trust the CA through NODE_EXTRA_CA_CERTS (see vitest.config.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = process.env.TESSERA_COMPAT_DIR;
  if (!dir) throw new Error('TESSERA_COMPAT_DIR is set by tests/compat/vitest.config.ts');
  mkdirSync(dir, { recursive: true });
  const certs = makeCerts(join(dir, 'certs'));
  const servers: RunningServer[] = [];
  const databases: TestDatabase[] = [];
  const targets: Target[] = [];
  const cleanup = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const db of databases) await db.drop().catch((e) => console.warn(`[compat] could not drop a test database: ${e.message}`));
    if (!process.env.TESSERA_COMPAT_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const dialect of ['sqlite', 'postgres'] as const) {
      if (dialect === 'postgres') {
        // Missing PostgreSQL: skipped (with a message) locally; in CI every PostgreSQL scenario fails with the reason.
        const up = await postgresAvailable().catch((e: Error) => e);
        if (up !== true) {
          const reason = up instanceof Error ? up.message : `PostgreSQL did not answer at ${PG_ADMIN_URL} (it is required when CI is set)`;
          targets.push({ ...describeTarget(dialect, 'https://127.0.0.1:0'), ...(up instanceof Error ? { failReason: reason } : { skipReason: reason }) });
          continue;
        }
      }
      const db = dialect === 'sqlite'
        ? { url: `sqlite:${join(dir, 'db', 'tessera.db')}`, drop: async () => undefined }
        : await createTestDatabase('postgres');
      databases.push(db);
      const server = await startServer({ certs, databaseUrl: db.url, logDir: dir, label: dialect });
      servers.push(server);
      targets.push(describeTarget(dialect, server.baseUrl));
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  project.provide('compatTargets', targets);
  project.provide('compatCaCert', certs.caCert);
  project.provide('compatDir', dir);
  return async () => {
    if (process.env.TESSERA_COMPAT_LOGS) for (const s of servers) console.log(`--- ${s.logFile}\n${tail(s.logFile, 200)}`);
    await cleanup();
  };
}

function describeTarget(dialect: Target['dialect'], baseUrl: string): Target {
  return {
    dialect, baseUrl, domain: new URL(baseUrl).host, issuer: `${baseUrl}/`, managementAudience: `${baseUrl}/api/v2/`,
    adminClientId: ADMIN_CLIENT_ID, adminClientSecret: ADMIN_CLIENT_SECRET,
  };
}
