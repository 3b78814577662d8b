// Drives one server with autocannon (in a child process) and turns the result into a row: req/s,
// p50/p99, errors, and where the CPU went (server tree, load generator, foreign processes).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuWindow, rssMb, waitQuiet } from './proc.mjs';

const CHILD = fileURLToPath(new URL('./autocannon-child.mjs', import.meta.url));

/** Runs the child; `onReady` is called when its requests are prepared, just before it starts sending. */
function autocannon(opts, onReady = () => {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let ready = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (!ready && out.includes('\n')) { ready = true; out = out.slice(out.indexOf('\n') + 1); onReady(); }
    });
    p.on('exit', (code) => (code === 0 ? resolve({ ...JSON.parse(out), pid: p.pid }) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

/** `request`: {url, method, headers, body, paths?, dpop?}. Returns the measured row. */
export async function measure(server, request, { connections, duration }) {
  const quiet = await waitQuiet({ timeoutMs: 2000 });
  let w;
  const { result: r, cpuSec: acCpu, p95 } = await autocannon({ ...request, connections, duration }, () => { w = cpuWindow([server.pid]); });
  const win = w.stop();
  const rss = rssMb(server.workerPids());
  const primary = rss.some((x) => x.pid === server.pid) ? undefined : rssMb([server.pid])[0]?.mb;
  const total = r.requests.total;
  return {
    connections, duration,
    reqPerSec: Math.round(total / (r.duration || win.secs)),
    p50: r.latency.p50, p95, p99: r.latency.p99,
    total, non2xx: r.non2xx, errors: r.errors + r.timeouts,
    serverCores: +(win.ownCpu / win.secs).toFixed(2),
    cpuSecPer1k: total ? +((win.ownCpu / total) * 1000).toFixed(3) : undefined,
    loadgenCores: +(acCpu / win.secs).toFixed(2),
    foreignCores: +Math.max(0, (win.busyCpu - win.ownCpu - acCpu) / win.secs).toFixed(2),
    busyBefore: quiet.busyPct,
    rssMaxMb: Math.max(0, ...rss.map((x) => x.mb)),
    rssTotalMb: rss.reduce((s, x) => s + x.mb, 0) + (primary ?? 0),
    rssPrimaryMb: primary,
  };
}

/** Runs autocannon without measuring the server (a background load); resolves with its summary. */
export function background(request, { connections, duration }) {
  return autocannon({ ...request, connections, duration });
}

/** A short untimed load so JIT, caches and connection pools are warm before measuring. */
export async function warmUp(request, seconds) {
  if (seconds > 0) await autocannon({ ...request, connections: 10, duration: seconds });
}
