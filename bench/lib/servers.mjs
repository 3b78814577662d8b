// Starting and stopping the servers under test: Tessera exactly as users start it (the CLI with TESSERA_*
// variables), the ceiling server, and the optional peers. Each runs in its own process group.
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { processTree } from './proc.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The node flags `npm start` gives `tessera serve` (package.json's start script, e.g. the young generation's size):
 * the benchmark starts the server exactly as `npm start` does.
 */
export const SERVE_NODE_FLAGS = (() => {
  const start = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts.start;
  const m = /\bnode((?:\s+--\S+)*)\s+packages\/cli\/bin\/tessera\.mjs\s+serve\b/.exec(start);
  if (!m) throw new Error(`package.json start script does not run packages/cli/bin/tessera.mjs serve: ${start}`);
  return m[1].trim().split(/\s+/).filter(Boolean);
})();
const isNode = (pid) => { try { return readlinkSync(`/proc/${pid}/exe`) === process.execPath; } catch { return false; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `cmd` and resolves once `ready(output)` is true for its stdout. The handle knows the process
 * tree (for CPU and RSS) and stops the whole group.
 */
export function startProcess(name, cmd, args, { env, cwd, ready, timeoutMs = 60_000, onOutput }) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  const handle = {
    name, pid: child.pid, port: undefined,
    output: () => out,
    /** Node processes that serve requests: the workers under a cluster primary, or the process itself (not helpers such as esbuild). */
    workerPids: () => {
      const nodes = processTree([child.pid]).filter(isNode);
      return nodes.length > 1 ? nodes.filter((p) => p !== child.pid) : nodes;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
      const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void handle.stop(); reject(new Error(`${name} not ready after ${timeoutMs} ms\n${out}\n${err}`)); }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      onOutput?.(String(d));
      if (ready(out)) { clearTimeout(timer); resolve(handle); }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${out.slice(-2000)}\n${err.slice(-2000)}`));
    });
  });
}

/** Distinct pids that logged Fastify's "Server listening" line (one per worker). */
function listeningWorkers(out) {
  const pids = new Set();
  for (const line of out.split('\n')) {
    if (!line.includes('Server listening at')) continue;
    try { pids.add(JSON.parse(line).pid); } catch { /* not JSON */ }
  }
  return pids.size;
}

/** `node <npm start's flags> packages/cli/bin/tessera.mjs serve`; ready when every worker listens. */
export async function startTessera({ databaseUrl, masterKey, admin, workers = 1, port, profileDir, extraEnv = {} }) {
  const env = {
    TESSERA_HOST: '127.0.0.1', TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TESSERA_DATABASE_URL: databaseUrl, TESSERA_MASTER_KEY: masterKey,
    TESSERA_ADMIN_CLIENT_ID: admin.id, TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    TESSERA_WORKERS: String(workers), TESSERA_LOG_LEVEL: 'info',
    // the load comes from one client at thousands of tokens per second: no limit here (`--rate-limits` measures their cost)
    TESSERA_RATE_LIMIT_AUTH: 'off', TESSERA_RATE_LIMIT_MANAGEMENT: 'off', ...extraEnv,
  };
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const h = await startProcess(`tessera(${workers})`, process.execPath, [...SERVE_NODE_FLAGS, ...nodeArgs, 'packages/cli/bin/tessera.mjs', 'serve'], {
    env, cwd: ROOT, ready: (out) => listeningWorkers(out) >= workers,
  });
  h.port = port;
  h.baseUrl = `http://127.0.0.1:${port}`;
  return h;
}

/** bench/ceiling-server.mjs with the same APIs, client and worker count as the Tessera run it pairs with. */
export async function startCeiling({ port, workers, issuer, client, apis }) {
  const h = await startProcess(`ceiling(${workers})`, process.execPath, ['bench/ceiling-server.mjs'], {
    cwd: ROOT,
    env: {
      CEILING_PORT: String(port), CEILING_WORKERS: String(workers), CEILING_ISSUER: issuer,
      CEILING_CLIENT_ID: client.id, CEILING_CLIENT_SECRET: client.secret, CEILING_APIS: JSON.stringify(apis),
    },
    ready: (out) => /listening/.test(out),
  });
  h.port = port;
  h.baseUrl = `http://127.0.0.1:${port}`;
  return h;
}
