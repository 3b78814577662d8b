// One autocannon measurement in its own process (so its CPU use is known and it cannot steal the
// server's event loop). argv[2] is JSON: autocannon options plus optional `paths` to rotate through, or
// `dpop: {htu, htm?, ath?, privateJwk?}` to send a fresh pre-made DPoP proof with every request. Prints "ready" once the requests
// are prepared (the parent opens its measuring window then), then {result, cpuSec, p95} as JSON.
import autocannon from 'autocannon';
import { makeProofs, proofsFor } from './dpop.mjs';

const { paths, dpop, ...opts } = JSON.parse(process.argv[2]);
if (paths?.length) {
  let i = 0;
  opts.requests = [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }];
}
if (dpop) {
  // made before the window opens; a proof is never sent twice (running out would show as non-2xx answers)
  const { proofs } = makeProofs({ ...dpop, count: proofsFor(opts.duration) });
  let i = 0;
  opts.requests = [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, dpop: proofs[i++ % proofs.length] } }) }];
}
process.stdout.write('ready\n');
const c0 = process.cpuUsage();
const times = []; // every response's time: autocannon reports no p95
const instance = autocannon({ ...opts, renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
instance.on('response', (_client, _status, _bytes, ms) => { times.push(ms); });
const result = await instance;
const c = process.cpuUsage(c0);
times.sort((a, b) => a - b);
const p95 = times.length ? +times[Math.min(times.length - 1, Math.floor(times.length * 0.95))].toFixed(2) : undefined;
process.stdout.write(JSON.stringify({ result, cpuSec: (c.user + c.system) / 1e6, p95 }));
