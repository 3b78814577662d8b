// @ts-ignore: types only; a checkout whose node_modules predate the @playwright/test devDependency still type-checks
import type { PlaywrightTestArgs, PlaywrightTestOptions, PlaywrightWorkerArgs, PlaywrightWorkerOptions, TestType } from '@playwright/test';
import { startTessera, type RunningTessera, type StartOptions } from './index';

export interface TesseraTestFixtures {
  /** The running server, reset to its seed before each test. */
  tesseraServer: RunningTessera;
}
export interface TesseraWorkerFixtures {
  /** Start options, a worker option: `test.use({ tessera: { seed, … } })` (one server per worker and options). */
  tessera: StartOptions;
  tesseraWorker: RunningTessera;
}

type BaseTest = PlaywrightTestArgs & PlaywrightTestOptions;
type BaseWorker = PlaywrightWorkerArgs & PlaywrightWorkerOptions;

/**
 * Adds Tessera to Playwright Test (the caller's own `test` is extended; @playwright/test is only a type here):
 *
 *   import { test as base } from '@playwright/test';
 *   const test = withTessera(base);
 *   test.use({ tessera: { seed } });
 *   test('…', async ({ page, tesseraServer }) => {
 *     await page.context().addCookies([await tesseraServer.session('ann@example.com')]);
 *   });
 */
export function withTessera(test: TestType<BaseTest, BaseWorker>, defaults: StartOptions = {}): TestType<BaseTest & TesseraTestFixtures, BaseWorker & TesseraWorkerFixtures> {
  return test.extend<TesseraTestFixtures, TesseraWorkerFixtures>({
    tessera: [defaults, { scope: 'worker', option: true }],
    tesseraWorker: [async ({ tessera }: { tessera: StartOptions }, use: (t: RunningTessera) => Promise<void>) => {
      const t = await startTessera(tessera);
      try { await use(t); } finally { await t.stop(); }
    }, { scope: 'worker' }],
    tesseraServer: async ({ tesseraWorker }: { tesseraWorker: RunningTessera }, use: (t: RunningTessera) => Promise<void>) => {
      await tesseraWorker.reset();
      await use(tesseraWorker);
    },
  });
}
