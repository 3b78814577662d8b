import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCerts } from './helpers/certs';
import { freePort } from './helpers/process';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  console.warn(`\n[browser] SKIPPING the Playwright Test suite of @tessera/testing: ${CHROMIUM} is not installed\n`);
}

/**
 * Judge: Playwright Test itself (its runner, workers and fixtures) running tests/playwright/spa-session.pw.ts, which
 * uses @tessera/testing's `withTessera` fixtures and `test.use({ tessera: … })`: an SPA logged in with a minted
 * session cookie, no hosted page on the way, and the same SPA logged in through the hosted login page. Node trusts the throw-away CA through NODE_EXTRA_CA_CERTS, as the
 * README tells teams to do; TypeScript sources load through tsx as in development.
 */
describe.skipIf(!available)('@tessera/testing in Playwright Test', () => {
  it('runs the SPA suite: both tests pass', async () => {
    const certs = makeCerts();
    const report = join(mkdtempSync(join(tmpdir(), 'tessera-pw-')), 'report.json');
    const root = join(import.meta.dirname, '..');
    const env = {
      ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim(), NODE_EXTRA_CA_CERTS: certs.caFile,
      TESSERA_PW_CERT: certs.certFile, TESSERA_PW_KEY: certs.keyFile, TESSERA_PW_SPA_PORT: String(await freePort()), TESSERA_PW_REPORT: report,
    };
    const run = spawn(process.execPath, [join(root, 'node_modules/@playwright/test/cli.js'), 'test', '-c', join(root, 'tests/playwright/playwright.config.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (d) => { out += d; });
    run.stderr.on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((r) => run.once('exit', r));
    expect(code, out).toBe(0);
    const stats = JSON.parse(readFileSync(report, 'utf8')).stats;
    expect(stats, out).toMatchObject({ expected: 2, unexpected: 0, flaky: 0, skipped: 0 });
  }, 300_000);
});
