import { afterAll, beforeAll, expect, it } from 'vitest';
import { eachDialect, startTessera, type TestServer } from '../helpers/tessera';
import { fuzz, fuzzFixture, fuzzRuns, type FuzzContext } from './fuzz';
import { isManagement, operationsOf } from './surface';

/** Every GET and DELETE operation of /api/v2, generated requests (mostly with an all-scopes token, so they reach the handlers). */
eachDialect('fuzz: Management API GET and DELETE', (dialect) => {
  let s: TestServer;
  let ctx: FuzzContext;
  beforeAll(async () => {
    s = await startTessera(dialect);
    const ops = (await operationsOf(s)).filter((o) => isManagement(o.path) && (o.method === 'GET' || o.method === 'DELETE'));
    // a successful key rotation would retire the suite's own admin token: that route is only sent without one
    ctx = { ops, ids: await fuzzFixture(s), adminToken: await s.adminToken(), noAdmin: (o) => o.path === '/api/v2/keys/signing/rotate' };
  });
  afterAll(async () => { await s?.close(); });

  it('never a 5xx, always the Management envelope, failed requests change nothing', async () => {
    const runs = fuzzRuns(3400);
    const started = Date.now();
    const out = await fuzz(s, ctx, runs);
    console.log(`fuzz-management-read [${dialect}]: ${out.requests} requests over ${ctx.ops.length} operations in ${Date.now() - started} ms, ${JSON.stringify(out.statusCounts)}, ${out.stateChecks} state checks (${out.windowsWithSuccess} windows with a successful write)`);
    expect(out.requests).toBe(runs);
  }, 120_000);
});
