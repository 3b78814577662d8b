#!/usr/bin/env node
// `node bench/verifier-cpu.mjs [iterations] [rounds]`: CPU time per verified request for the three Express
// middlewares of the verifier scenario, called in one process without HTTP (a request object as Express builds
// it), interleaved round by round. CPU time (process.cpuUsage), not wall time, so the comparison survives other
// processes competing for the cores; the autocannon scenario (`npm run bench -- --verifier-only`) adds HTTP.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { register } from 'tsx/esm/api';

register();
const { SignJWT, jwtVerify } = await import('jose');
const ejb = await import('express-oauth2-jwt-bearer');
const tv = await import('@tessera/verify');
const N = Number(process.argv[2] ?? 3000);
const ROUNDS = Number(process.argv[3] ?? 5);

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const server = createServer((req, res) => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const docs = {
    '/.well-known/openid-configuration': { issuer: `${base}/`, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ['RS256'] },
    '/jwks': { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] },
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(docs[req.url] ?? {}));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const issuerBaseURL = `http://127.0.0.1:${server.address().port}`;
const audience = 'https://bench-api.example/';
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ iss: `${issuerBaseURL}/`, sub: 'bench-user@clients', aud: audience, iat: now, exp: now + 3600, scope: 'read:orders', gty: 'client-credentials', azp: 'c' })
  .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' }).sign(privateKey);

const app = { get: () => undefined };
const request = () => ({
  method: 'GET', url: '/orders', originalUrl: '/orders', protocol: 'http', headers: { host: 'api.example', authorization: `Bearer ${token}` },
  query: {}, body: undefined, app, socket: { remoteAddress: '127.0.0.1' },
  get(name) { return this.headers[name.toLowerCase()]; }, is: () => false,
});
const joseMiddleware = (req, _res, next) => {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  jwtVerify(m[1], publicKey, { issuer: `${issuerBaseURL}/`, audience, algorithms: ['RS256'] }).then(({ payload, protectedHeader }) => { req.auth = { payload, header: protectedHeader, token: m[1] }; next(); }, next);
};
const subjects = {
  jose: joseMiddleware,
  'express-oauth2-jwt-bearer': ejb.auth({ issuerBaseURL, audience }),
  '@tessera/verify': tv.auth({ issuerBaseURL, audience }),
};
const res = { setHeader() {} };
const once = (mw) => new Promise((ok, fail) => { const req = request(); mw(req, res, (e) => (e ? fail(e) : req.auth ? ok() : fail(new Error('no auth')))); });

for (const mw of Object.values(subjects)) for (let i = 0; i < 200; i++) await once(mw); // discovery, JWKS, JIT
const totals = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, mw] of Object.entries(subjects)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await once(mw);
    const c = process.cpuUsage(c0);
    totals[name].push((c.user + c.system) / N);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mine = median(totals['@tessera/verify']);
console.log(`CPU µs per verified request (median of ${ROUNDS} interleaved rounds × ${N}), Node ${process.version}:`);
for (const [name, xs] of Object.entries(totals)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(26)} ${m.toFixed(1).padStart(7)} µs${name === '@tessera/verify' ? '' : `   ${name} ÷ @tessera/verify = ${(m / mine).toFixed(2)}`}   rounds: ${xs.map((x) => x.toFixed(0)).join(' ')}`);
}
server.close();
