import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The compatibility suite: real Auth0/OAuth clients against `tessera serve` over HTTPS on loopback.
// NODE_EXTRA_CA_CERTS is read only when a process starts, so the CA's path is fixed here, before any worker
// is forked; the global setup writes the CA there.
process.env.TESSERA_COMPAT_DIR ??= join(tmpdir(), `tessera-compat-${randomBytes(6).toString('hex')}`);
const caCert = join(process.env.TESSERA_COMPAT_DIR, 'certs', 'ca.crt');

export default defineConfig({
  test: {
    root: join(import.meta.dirname, '../..'),
    include: ['tests/compat/**/*.test.ts'],
    globalSetup: ['tests/compat/setup/global-setup.ts'],
    env: { NODE_EXTRA_CA_CERTS: caCert },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false, // a0deploy is CPU-heavy; two cores are shared
    maxWorkers: 1,
    reporters: ['default', './tests/compat/setup/table-reporter.ts', './scripts/summary-reporter.ts'],
  },
});
