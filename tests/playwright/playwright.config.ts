// @ts-ignore: loaded by Playwright's runner; a checkout whose node_modules predate this devDependency still type-checks
import { defineConfig } from '@playwright/test';

/**
 * Playwright Test as a team runs it against @tessera/testing: started by tests/testing-playwright.test.ts, which
 * passes the certificate, the SPA's port and where to write the JSON report in the environment.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.pw.ts',
  outputDir: '../../test-artifacts/playwright',
  workers: 1,
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: process.env.TESSERA_PW_REPORT ?? 'playwright-report.json' }]],
  use: {
    browserName: 'chromium',
    ignoreHTTPSErrors: true, // the suite's throw-away certificate
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', `--host-resolver-rules=MAP spa.test 127.0.0.1`],
    },
  },
});
