import { test as base } from 'vitest';
import { startTessera, type RunningTessera, type StartOptions } from './index';

/**
 * A vitest `test` with a `tessera` fixture: one server per test file (started on first use, stopped after the
 * file), reset to its seed before every test that uses it.
 *
 *   const test = tesseraTest({ seed });
 *   test('…', async ({ tessera }) => { … });
 */
export function tesseraTest(options: StartOptions = {}) {
  return base.extend<{ $test: { tessera: RunningTessera }; $file: { tesseraServer: RunningTessera } }>({
    tesseraServer: [async ({}, use) => {
      const t = await startTessera(options);
      try { await use(t); } finally { await t.stop(); }
    }, { scope: 'file' }],
    tessera: async ({ tesseraServer }, use) => {
      await tesseraServer.reset();
      await use(tesseraServer);
    },
  });
}
