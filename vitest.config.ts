import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/compat/**', '**/node_modules/**'],
    testTimeout: 30_000,
    // servers the suites start as child processes inherit this: niced hashing threads (the default) starve under the
    // run's own parallel load; tests/password-pool.test.ts sets the nice value it checks explicitly
    env: { TESSERA_PASSWORD_NICE: '0' },
    hookTimeout: 60_000,
    // browser suites poll what a page shows; on a loaded CI machine a page with two SDK clients starting (each doing
    // a silent check) takes longer than vitest's one-second default
    expect: { poll: { timeout: 20_000, interval: 100 } },
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
