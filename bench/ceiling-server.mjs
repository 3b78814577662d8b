// The ceiling: the least work an Auth0-shaped client_credentials /oauth/token can do on this machine.
// Bare node:http, fixtures in memory (one client with a SHA-256 secret digest, one API per algorithm,
// one grant), and the same token Tessera mints (Auth0 dialect: iss, sub, aud, iat, exp, scope, gty, azp;
// header alg/typ/kid). RS256/PS256 sign with jose (WebCrypto, key imported once); HS256 signs with
// node:crypto HMAC, the stricter of the two HS256 ceilings in docs (jose would be ~20 % slower).
//
// Env: CEILING_PORT, CEILING_WORKERS (node:cluster size), CEILING_ISSUER, CEILING_CLIENT_ID,
// CEILING_CLIENT_SECRET, CEILING_APIS (JSON: [{identifier, alg, scope}]). Listens on 127.0.0.1 only
// and prints "listening" when every worker is ready.
import cluster from 'node:cluster';
import { createHash, createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// The same jose Tessera signs with (packages/server's copy, not the root one other tools pull in).
const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
const { CompactSign, importPKCS8 } = await import(pathToFileURL(require.resolve('jose')).href);

const PORT = Number(process.env.CEILING_PORT ?? 47400);
const WORKERS = Number(process.env.CEILING_WORKERS ?? 1);
const ISSUER = process.env.CEILING_ISSUER ?? 'https://tessera.bench/';
const CLIENT_ID = process.env.CEILING_CLIENT_ID ?? 'ceiling-client';
const CLIENT_SECRET = process.env.CEILING_CLIENT_SECRET ?? 'ceiling-secret';
const APIS = JSON.parse(process.env.CEILING_APIS ?? '[{"identifier":"https://api.bench/rs256","alg":"RS256","scope":["read:a"]}]');
const LIFETIME = 86400;

const sha256 = (s) => createHash('sha256').update(s).digest();
const enc = new TextEncoder();

async function fixtures() {
  // Workers share one RSA key (as Tessera's workers share the tenant key); the primary hands it over.
  const pem = process.env.CEILING_RSA_PKCS8
    ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
  const hsSecret = process.env.CEILING_HS_SECRET ?? randomBytes(48).toString('base64url');
  const apis = new Map();
  for (const a of APIS) {
    const key = a.alg === 'HS256' ? hsSecret : await importPKCS8(pem, a.alg, { extractable: false });
    apis.set(a.identifier, { ...a, key });
  }
  return { pem, hsSecret, apis, client: { id: CLIENT_ID, digest: sha256(CLIENT_SECRET) } };
}

function b64json(o) { return Buffer.from(JSON.stringify(o)).toString('base64url'); }

async function sign(api, claims) {
  if (api.alg === 'HS256') {
    const input = `${b64json({ alg: 'HS256', typ: 'JWT' })}.${b64json(claims)}`;
    return `${input}.${createHmac('sha256', api.key).update(input).digest('base64url')}`;
  }
  return new CompactSign(enc.encode(JSON.stringify(claims))).setProtectedHeader({ alg: api.alg, typ: 'JWT', kid: 'ceiling' }).sign(api.key);
}

function send(res, status, body) {
  const out = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out),
    'cache-control': 'no-store', pragma: 'no-cache',
  }).end(out);
}

async function token(fx, raw) {
  const p = new URLSearchParams(raw);
  if (p.get('grant_type') !== 'client_credentials') return [400, { error: 'unsupported_grant_type', error_description: 'grant' }];
  const secret = p.get('client_secret');
  if (p.get('client_id') !== fx.client.id || !secret || !timingSafeEqual(sha256(secret), fx.client.digest)) {
    return [401, { error: 'access_denied', error_description: 'Unauthorized' }];
  }
  const api = fx.apis.get(p.get('audience'));
  if (!api) return [403, { error: 'access_denied', error_description: 'Service not enabled within domain' }];
  const scope = api.scope.join(' ');
  const iat = Math.floor(Date.now() / 1000);
  const access = await sign(api, {
    iss: ISSUER, sub: `${fx.client.id}@clients`, aud: api.identifier, iat, exp: iat + LIFETIME, scope, gty: 'client-credentials', azp: fx.client.id,
  });
  return [200, { access_token: access, scope, expires_in: LIFETIME, token_type: 'Bearer' }];
}

async function serve() {
  const fx = await fixtures();
  await new Promise((resolve) => http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/oauth/token') return void send(res, 404, { error: 'not_found' });
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => token(fx, Buffer.concat(chunks).toString('utf8')).then(
      ([status, body]) => send(res, status, body),
      (e) => send(res, 500, { error: 'server_error', error_description: String(e) }),
    ));
  }).listen(PORT, '127.0.0.1', resolve));
  return fx;
}

if (WORKERS > 1 && cluster.isPrimary) {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
  const env = { CEILING_RSA_PKCS8: pem, CEILING_HS_SECRET: randomBytes(48).toString('base64url') };
  let ready = 0;
  for (let i = 0; i < WORKERS; i++) {
    cluster.fork(env).on('message', (m) => { if (m === 'listening' && ++ready === WORKERS) console.log(`listening (${WORKERS} workers)`); });
  }
  const stop = () => { for (const w of Object.values(cluster.workers ?? {})) w?.kill(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await serve();
  if (cluster.isWorker) process.send('listening');
  else console.log('listening (1 process)');
}
