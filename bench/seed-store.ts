// Bulk seeding for the large-store benchmark: N APIs, N clients and 5 grants per client, cloned from the
// API and client the benchmark created through the Management API (so every row has the real shape),
// written through the store's own repositories in large transactions. Run before the measured server
// starts; each transaction also advances the change generation, so a running server would notice too.
// Env: BENCH_DATABASE_URL, BENCH_MASTER_KEY, BENCH_APIS, BENCH_TEMPLATE_CLIENT, BENCH_TEMPLATE_API.
// Prints {apis, clients, grants, seconds} as JSON.
import { createSecretBox, ids, type ClientGrant } from '@tessera/core';
import { decodeMasterKey } from '@tessera/server';
import { openStore } from '@tessera/store';

const GRANTS_PER_CLIENT = 5;
const CHUNK = 2000;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

async function main(): Promise<void> {
  const n = Number(env('BENCH_APIS'));
  const store = openStore(env('BENCH_DATABASE_URL'), createSecretBox([decodeMasterKey(env('BENCH_MASTER_KEY'))]));
  const started = performance.now();
  try {
    const api = await store.resourceServers.findByIdentifier(env('BENCH_TEMPLATE_API'));
    const client = await store.clients.findById(env('BENCH_TEMPLATE_CLIENT'));
    const grant = client && api && await store.clientGrants.findFor(client.client_id, api.identifier, 'client');
    if (!api || !client || !grant) throw new Error('template API, client or grant not found: seed through the Management API first');
    const identifiers = Array.from({ length: n }, (_, i) => `https://bulk.bench.tessera/api/${i}`);
    const clientIds = Array.from({ length: n }, () => ids.client());
    await inChunks(n, (i) => store.write(async (tx) => {
      for (let k = i; k < Math.min(n, i + CHUNK); k++) {
        await tx.resourceServers.insert({ ...structuredClone(api), id: ids.resourceServer(), identifier: identifiers[k], name: `Bulk API ${k}` });
        await tx.clients.insert({ ...structuredClone(client), client_id: clientIds[k], client_secret: ids.clientSecret(), name: `Bulk client ${k}` });
      }
    }));
    const grants = n * GRANTS_PER_CLIENT;
    await inChunks(grants, (i) => store.write(async (tx) => {
      for (let k = i; k < Math.min(grants, i + CHUNK); k++) {
        const c = Math.floor(k / GRANTS_PER_CLIENT);
        const g: ClientGrant = {
          ...structuredClone(grant), id: ids.clientGrant(), client_id: clientIds[c], audience: identifiers[(c + (k % GRANTS_PER_CLIENT)) % n],
        };
        await tx.clientGrants.insert(g);
      }
    }));
    process.stdout.write(JSON.stringify({ apis: n, clients: n, grants, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
  } finally {
    await store.close();
  }
}

async function inChunks(total: number, fn: (start: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < total; i += CHUNK) await fn(i);
}

await main();
