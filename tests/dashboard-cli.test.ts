import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runCli, spawnTessera, type RunningServer } from './helpers/process';
import { startTessera } from './helpers/tessera';

/**
 * The operator's side, as processes: `tessera serve` prints the one-time administrator link to stderr on a fresh
 * database, `tessera admin create-user` makes an administrator and prints its one-time link, and a later start
 * prints no link.
 */
describe('dashboard administrators from the command line (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dashboard-cli-'));
  let server: RunningServer | undefined;
  let env: Record<string, string>;
  afterAll(async () => { await server?.stop('SIGKILL'); });

  it('serve prints the one-time link; create-user prints an administrator and its link; the next start prints none', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    env = {
      TESSERA_PORT: String(port), TESSERA_PUBLIC_URL: base, TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), TESSERA_LOG_LEVEL: 'warn',
    };
    server = await spawnTessera(env);
    await expect.poll(() => server!.output(), { timeout: 10_000 }).toContain('No dashboard administrator yet');
    const link = new RegExp(`${base}/dashboard/setup\\?ticket=[A-Za-z0-9_-]{43}`).exec(server.output())?.[0];
    expect(link).toBeDefined();
    expect(server.output()).toContain(`dashboard:            ${base}/dashboard/`);
    const page = await fetch(link as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Create the first administrator');
    await server.stop();
    server = undefined;

    const made = await runCli(['admin', 'create-user', '--email', 'ops@example.com'], env);
    expect(made.code, made.stderr).toBe(0);
    const out = JSON.parse(made.stdout);
    expect(out).toMatchObject({ email: 'ops@example.com', created: true, set_password_url: expect.stringMatching(new RegExp(`^${base}/dashboard/setup\\?ticket=`)) });
    expect(made.stderr).toContain('set the password within 24 hours, once');
    const bad = await runCli(['admin', 'create-user', '--email', 'not-an-email'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tessera: /);

    server = await spawnTessera(env);
    expect(server.output()).not.toContain('No dashboard administrator yet');
    const form = await fetch(out.set_password_url);
    expect(await form.text()).toContain('Choose a password for <strong>ops@example.com</strong>');
  }, 120_000);

  it('create-user on a connection that requires usernames: refused without --username (nothing written), made with it', async () => {
    const db = { url: `sqlite:${join(dir, 'usernames.db')}`, drop: async () => undefined };
    const masterKey = randomBytes(32).toString('base64');
    const s = await startTessera('sqlite', { database: db, masterKey });
    try {
      const connection = (await s.api('GET', '/connections')).body[0];
      expect((await s.api('PATCH', `/connections/${connection.id}`, { options: { requires_username: true } })).status).toBe(200);
    } finally { await s.close(); }
    const cliEnv = { TESSERA_PUBLIC_URL: 'http://127.0.0.1:1', TESSERA_DATABASE_URL: db.url, TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: 'warn' };
    const refused = await runCli(['admin', 'create-user', '--email', 'ops@example.com'], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tessera: The database connection requires a username (requires_username): pass --username <name>.');
    const made = await runCli(['admin', 'create-user', '--email', 'ops@example.com', '--username', 'Ops.Admin'], cliEnv);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ email: 'ops@example.com', username: 'ops.admin', created: true });
    const after = await startTessera('sqlite', { database: db, masterKey });
    try {
      const users = (await after.api('GET', '/users')).body;
      expect(users).toEqual([expect.objectContaining({ email: 'ops@example.com', username: 'ops.admin' })]); // the refused run wrote nothing
    } finally { await after.close(); }
  }, 180_000);
});
