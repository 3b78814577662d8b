import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { fuzz, fuzzFixture, fuzzRuns, type FuzzContext } from './fuzz';
import { isManagement, operationsOf } from './surface';

/** Every route outside /api/v2 (token, revoke, authorize, hosted pages, userinfo, discovery, JWKS, ops), generated requests. */
eachDialect('fuzz: Authentication API, hosted pages and ops routes', (dialect) => {
  let s: TestServer;
  let ctx: FuzzContext;
  beforeAll(async () => {
    s = await startTessera(dialect);
    const ops = (await operationsOf(s)).filter((o) => !isManagement(o.path));
    ctx = { ops, ids: await fuzzFixture(s), adminToken: await s.adminToken(), noAdmin: () => false };
  });
  afterAll(async () => { await s?.close(); });

  it('never a 5xx, always the surface\'s error body, failed requests change nothing', async () => {
    const runs = fuzzRuns(3400);
    const started = Date.now();
    const out = await fuzz(s, ctx, runs);
    console.log(`fuzz-auth [${dialect}]: ${out.requests} requests over ${ctx.ops.length} operations in ${Date.now() - started} ms, ${JSON.stringify(out.statusCounts)}, ${out.stateChecks} state checks (${out.windowsWithSuccess} windows with a success)`);
    expect(out.requests).toBe(runs);
  }, 120_000);
});
