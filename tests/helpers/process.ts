import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../packages/cli/bin/tessera.mjs');

/** A port that was free a moment ago (the OS picks it). */
export { freePort } from '../../packages/testing/src/free-port';

export interface RunningServer { proc: ChildProcess; output: () => string; exited: Promise<number | null>; stop(signal?: NodeJS.Signals): Promise<number | null> }

/** Starts `tessera serve` as a user would (a child process) and waits for its "listening" line. */
export async function spawnTessera(env: Record<string, string>, args: string[] = ['serve'], startTimeoutMs = 30_000): Promise<RunningServer> {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((res, rej) => {
    // a server that did not start in time is killed, not left running after the suite (it outlived test runs)
    const timer = setTimeout(() => { proc.kill('SIGKILL'); rej(new Error(`server did not start:\n${out}`)); }, startTimeoutMs);
    const check = () => { if (/Tessera listening on/.test(out)) { clearTimeout(timer); res(); } };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check); // the banner goes to stderr
    exited.then((code) => { clearTimeout(timer); rej(new Error(`server exited with ${code}:\n${out}`)); });
  });
  return {
    proc, output: () => out, exited,
    async stop(signal = 'SIGTERM') { if (proc.exitCode === null) proc.kill(signal); return exited; },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.once('exit', (code) => res({ code, stdout, stderr }));
  });
}
