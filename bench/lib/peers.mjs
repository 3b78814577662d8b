// `--peers`: node-oidc-provider and AuthHero through the runners in ../shared/bench/peers (pinned
// versions, npm registry only), each interleaved with the RS256 ceiling like Tessera is. The runners are
// copied to a cache folder outside the repository and installed there once with `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { measure, warmUp } from './load.mjs';
import { ROOT, freePort, startCeiling, startProcess } from './servers.mjs';

const SOURCE = resolve(ROOT, '../shared/bench/peers');
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tessera-bench', 'peers');
const CLIENT = { id: 'bench-m2m-client', secret: 'bench-m2m-secret-please-change-0123456789' };
const RESOURCE = 'https://api.example.com';

const PEERS = [
  {
    name: 'oidc-provider', label: 'node-oidc-provider 9.13', npmArgs: [],
    env: () => ({ WORKERS: '1' }),
    request: (base) => form(`${base}/token`, { resource: RESOURCE, scope: 'read:users' }),
  },
  {
    name: 'authhero', label: 'AuthHero 9.6 (cache+WAL)', npmArgs: ['--legacy-peer-deps'],
    env: (dir) => ({ RESET_DB: '1', QUIET: '1', CACHE: '1', SQLITE_WAL: '1', HOST: '127.0.0.1', DB_PATH: join(dir, 'data', 'authhero.sqlite') }),
    request: (base) => form(`${base}/oauth/token`, { audience: RESOURCE, scope: 'read:users' }),
  },
];

function form(url, extra) {
  return {
    url, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT.id, client_secret: CLIENT.secret, ...extra }).toString(),
  };
}

/** Copies the runner (not node_modules) and installs its lockfile once. Returns the folder or an error. */
function install(peer, log) {
  const src = join(SOURCE, peer.name);
  if (!existsSync(src)) return { error: `${src} not found` };
  const dir = join(CACHE, peer.name);
  mkdirSync(dir, { recursive: true });
  spawnSync('cp', ['-r', `${src}/.`, dir]);
  spawnSync('chmod', ['-R', 'u+w', dir]);
  if (!existsSync(join(dir, 'node_modules', '.package-lock.json'))) {
    log(`# installing ${peer.name} into ${dir} (npm ci; AuthHero compiles better-sqlite3, a few minutes)`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error', ...peer.npmArgs], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) return { error: `npm ci failed (${r.status})` };
  }
  return { dir };
}

export async function runPeers({ cfg, log, printRow }) {
  const rows = [];
  for (const peer of PEERS) {
    const { dir, error } = install(peer, log);
    if (error) { log(`# peer ${peer.name} skipped: ${error}`); continue; }
    const port = await freePort();
    let server;
    let ceiling;
    try {
      server = await startProcess(peer.name, process.execPath, ['server.mjs'], { cwd: dir, env: { PORT: String(port), ...peer.env(dir) }, ready: (o) => /listening/.test(o) });
      ceiling = await startCeiling({ port: await freePort(), workers: 1, issuer: `http://127.0.0.1:${port}/`, client: CLIENT, apis: [{ identifier: RESOURCE, alg: 'RS256', scope: ['read:users'] }] });
      const subjects = [
        { label: 'ceiling', handle: ceiling, request: form(`${ceiling.baseUrl}/oauth/token`, { audience: RESOURCE, scope: 'read:users' }) },
        { label: peer.label, handle: server, request: peer.request(`http://127.0.0.1:${port}`) },
      ];
      for (const s of subjects) {
        const res = await fetch(s.request.url, { method: 'POST', headers: s.request.headers, body: s.request.body });
        if (res.status !== 200) throw new Error(`${s.label}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        await warmUp(s.request, cfg.warmup);
      }
      log(`# peer ${peer.label}, RS256, 1 process`);
      for (const c of cfg.connections) {
        for (let round = 0; round < cfg.rounds; round++) {
          for (const s of subjects) {
            const row = { pairId: `peer|${peer.name}`, kind: 'token', server: s.label, alg: 'RS256', workers: 1, store: 'its own', round, ...(await measure(s.handle, s.request, { connections: c, duration: cfg.duration })) };
            rows.push(row);
            printRow(row);
          }
        }
      }
    } catch (e) {
      log(`# peer ${peer.name} failed: ${e.message}`);
    } finally {
      await ceiling?.stop();
      await server?.stop();
    }
  }
  return rows;
}
