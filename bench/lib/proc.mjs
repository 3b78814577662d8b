// CPU and memory accounting from /proc (Linux): who used how much CPU during a measurement (the server's
// process tree, the load generator, everything else on the machine) and the server's resident memory.
import fs from 'node:fs';
import os from 'node:os';

export const CORES = os.availableParallelism();
const HZ = 100; // USER_HZ

/** Busy jiffies of the whole machine. */
export function machineBusy() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), cpu: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** Every pid in the trees rooted at `roots`, roots included. */
export function processTree(roots) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) parent.set(Number(d), s.ppid);
  }
  const tree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of parent) if (!tree.has(p) && tree.has(pp)) { tree.add(p); grew = true; }
  }
  return [...tree];
}

/** CPU seconds used so far by the given pids. */
export function cpuSeconds(pids) {
  let j = 0;
  for (const p of pids) j += stat(p)?.cpu ?? 0;
  return j / HZ;
}

/** Resident set size (MB) of each pid that still exists. */
export function rssMb(pids) {
  const out = [];
  for (const p of pids) {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      out.push({ pid: p, mb: Math.round(kb / 1024) });
    } catch { /* gone */ }
  }
  return out;
}

/** Starts a window; `stop()` returns machine-wide busy cores and the cores the given trees used. */
export function cpuWindow(roots) {
  const t0 = performance.now();
  const m0 = machineBusy();
  const pids0 = processTree(roots);
  const own0 = cpuSeconds(pids0);
  return {
    stop() {
      const secs = (performance.now() - t0) / 1000;
      const pids = processTree(roots);
      const own = cpuSeconds(pids) - own0;
      const busy = (machineBusy().busy - m0.busy) / HZ;
      return { secs, ownCpu: own, busyCpu: busy, pids };
    },
  };
}

/** Waits (bounded) until the machine is mostly idle, so a run does not start on top of someone else's burst. */
export async function waitQuiet({ maxBusyPct = 15, timeoutMs = 5000 } = {}) {
  const end = Date.now() + timeoutMs;
  let pct = 100;
  while (Date.now() < end) {
    const a = machineBusy();
    await new Promise((r) => setTimeout(r, 500));
    const b = machineBusy();
    pct = Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100);
    if (pct <= maxBusyPct) return { quiet: true, busyPct: pct };
  }
  return { quiet: false, busyPct: pct };
}
