import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnTessera, type RunningServer } from './helpers/process';

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN = { TESSERA_ADMIN_CLIENT_ID: 'walkthrough-admin', TESSERA_ADMIN_CLIENT_SECRET: 'walkthrough-admin-secret-0123456789' };

/** The README's walkthrough: shell blocks after `<!-- walkthrough -->`, files after `<!-- walkthrough-file: NAME -->`. */
function walkthrough(): { script: string; files: Record<string, string>; blocks: number } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shell = [...readme.matchAll(/<!-- walkthrough -->\n```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const files = Object.fromEntries([...readme.matchAll(/<!-- walkthrough-file: ([\w.-]+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));
  return { script: `set -euo pipefail\n${shell.join('\n')}`, files, blocks: shell.length };
}

function runBash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const proc = spawn('bash', ['-c', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    // bounded: the whole group (the shell and the API it starts) goes after 90 s
    const timer = setTimeout(() => { try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 90_000);
    proc.once('exit', (code) => { clearTimeout(timer); try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* gone */ } res({ code, stdout, stderr }); });
  });
}

/** The README's curl walkthrough, run as written against `tessera serve`: the commands cannot drift from what works. */
describe('README walkthrough', () => {
  let server: RunningServer;
  let dataDir: string;
  let work: string;
  let base: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-walkthrough-'));
    // inside the repository, so that api.mjs finds express and express-oauth2-jwt-bearer in node_modules
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    work = mkdtempSync(join(ROOT, 'test-artifacts', 'walkthrough-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    server = await spawnTessera({ ...ADMIN, TESSERA_PORT: String(port), TESSERA_DATABASE_URL: `sqlite:${join(dataDir, 't.db')}`, TESSERA_LOG_LEVEL: 'warn' }, ['serve'], 100_000);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('has the steps: Management token, API, application and grant, token, Express', () => {
    const { script, files, blocks } = walkthrough();
    expect(blocks).toBeGreaterThanOrEqual(5);
    expect(Object.keys(files)).toEqual(['api.mjs']);
    for (const step of ['/oauth/token', '/api/v2/resource-servers', '/api/v2/clients', '/api/v2/client-grants', 'node api.mjs']) expect(script).toContain(step);
  });

  it('runs: the API answers the token with its client and scope, and refuses a request without one', async () => {
    const { script, files } = walkthrough();
    for (const [name, body] of Object.entries(files)) writeFileSync(join(work, name), body);
    const r = await runBash(script, work, { TESSERA: base, ADMIN_ID: ADMIN.TESSERA_ADMIN_CLIENT_ID, ADMIN_SECRET: ADMIN.TESSERA_ADMIN_CLIENT_SECRET, PORT: String(await freePort()) });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // the API as created, RS256 by default; the grant
    expect(r.stdout).toMatch(/"identifier":"https:\/\/orders\.example\.com"/);
    expect(r.stdout).toMatch(/"signing_alg":"RS256"/);
    expect(r.stdout).toMatch(/"scope":\["read:orders"\]/);
    // Express: the verified token's subject and scope, then 401 without a token
    expect(r.stdout).toMatch(/\{"client":"[^"]+@clients","scope":"read:orders"\}/);
    expect(r.stdout).toMatch(/\b401\n?$/); // curl's status line, last
  }, 120_000);
});
