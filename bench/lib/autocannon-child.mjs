// One autocannon measurement in its own process (so its CPU use is known and it cannot steal the
// server's event loop). argv[2] is JSON: autocannon options plus optional `paths` to rotate through.
// Prints {result, cpuSec} as JSON.
import autocannon from 'autocannon';

const { paths, ...opts } = JSON.parse(process.argv[2]);
if (paths?.length) {
  let i = 0;
  opts.requests = [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }];
}
const c0 = process.cpuUsage();
const result = await autocannon({ ...opts, renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
const c = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ result, cpuSec: (c.user + c.system) / 1e6 }));
