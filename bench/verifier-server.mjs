#!/usr/bin/env node
// One Express API for the verifier scenario (`bench/lib/verifier.mjs`): GET /orders answers the token's `sub`,
// after the middleware named by VERIFIER checks the access token:
//   tessera, tessera-dpop, tessera-jwe   @tessera/verify's auth() (discovery, JWKS; proofs; decryption keys)
//   ejb, ejb-dpop                        express-oauth2-jwt-bearer's auth() (discovery, JWKS; its DPoP support)
//   jose, jose-jwe                       bare jose: jwtVerify with the issuer's public key imported once
//                                        (compactDecrypt first for jose-jwe); iss, aud, RS256 pinned
//   none                                 no verification at all (the same Express app and answer): the ceiling any
//                                        verifier in this setup can reach
// Every variant loads through the same TypeScript loader, so start-up differences do not reach the figures.
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { register } from 'tsx/esm/api';

register();
const { VERIFIER: mode, ISSUER_URL: issuerBaseURL, AUDIENCE: audience, PORT, PUBLIC_PEM, JWE_PRIVATE_PEM } = process.env;
const { default: express } = await import('express');
const app = express();
const issuer = `${issuerBaseURL}/`;

let middleware;
if (mode === 'none') {
  middleware = (req, _res, next) => { req.auth = { payload: { sub: 'bench-user@clients' } }; next(); };
} else if (mode.startsWith('tessera')) {
  const { auth } = await import('@tessera/verify');
  middleware = auth({ issuerBaseURL, audience, ...(mode === 'tessera-jwe' ? { decryptionKeys: [JWE_PRIVATE_PEM] } : {}) });
} else if (mode.startsWith('ejb')) {
  const { auth } = await import('express-oauth2-jwt-bearer');
  middleware = auth({ issuerBaseURL, audience });
} else {
  const { jwtVerify, compactDecrypt } = await import('jose');
  const key = createPublicKey(PUBLIC_PEM);
  const jweKey = JWE_PRIVATE_PEM ? createPrivateKey(JWE_PRIVATE_PEM) : undefined;
  const decoder = new TextDecoder();
  middleware = (req, res, next) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) { res.status(401).json({ error: 'invalid_request' }); return; }
    const open = jweKey
      ? compactDecrypt(m[1], jweKey, { keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] }).then((r) => decoder.decode(r.plaintext))
      : Promise.resolve(m[1]);
    open.then((jws) => jwtVerify(jws, key, { issuer, audience, algorithms: ['RS256'] })).then(({ payload, protectedHeader }) => {
      req.auth = { payload, header: protectedHeader, token: m[1] };
      next();
    }, () => { res.status(401).json({ error: 'invalid_token' }); });
  };
}
app.get('/orders', middleware, (req, res) => { res.json({ sub: req.auth.payload.sub }); });
app.use((err, _req, res, _next) => { res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.code ?? 'server_error', message: err.message }); });
const server = app.listen(Number(PORT), '127.0.0.1', () => { process.stdout.write(`listening ${PORT}\n`); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
