import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { expect } from 'vitest';
import type { ListeningServer } from '../helpers/listening';

/** The error handler both libraries' routes share: status, the library's headers, its code and message. */
export const renderError: ErrorRequestHandler = (err, _req, res, _next) => {
  res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.code ?? 'server_error', message: err.message });
};

export const echo = (req: express.Request, res: express.Response) => { res.json({ auth: req.auth ?? null }); };

/** Starts an Express app on loopback; `mount` adds the routes; the error handler goes last. */
export async function startExpress(mount: (app: Express) => void): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  mount(app);
  app.use(renderError);
  const server = await new Promise<Server>((ok) => { const s = app.listen(0, '127.0.0.1', () => ok(s)); });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

export interface Answer { status: number; body: any; challenge: string | null; nonce: string | null }

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* keep text */ }
  return { status: res.status, body, challenge: res.headers.get('www-authenticate'), nonce: res.headers.get('dpop-nonce') };
}

export const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

/** An M2M client granted `scope` on every audience given; returns a function that asks Tessera for a token. */
export async function m2mTokens(l: ListeningServer, audiences: string[], scope: string[]) {
  const c = await l.mgmt('POST', '/clients', { name: `verify-${Math.random().toString(36).slice(2, 8)}`, app_type: 'non_interactive', grant_types: ['client_credentials'] });
  expect(c.status).toBe(201);
  for (const audience of audiences) expect((await l.mgmt('POST', '/client-grants', { client_id: c.body.client_id, audience, scope })).status).toBe(201);
  const client = { client_id: c.body.client_id as string, client_secret: c.body.client_secret as string };
  return {
    client,
    async token(audience: string, headers: Record<string, string> = {}): Promise<{ access_token: string; token_type: string }> {
      const r = await l.s.token({ grant_type: 'client_credentials', audience, ...client }, { headers });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    },
  };
}

export const rsaPair = (): { publicPem: string; privateKey: KeyObject; privatePem: string } => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
};

/** Re-encodes a JWT's payload with `patch` applied, keeping header and signature (a tampered token). */
export function tamper(jwt: string, patch: Record<string, unknown>): string {
  const [h, p, s] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, ...patch })).toString('base64url')}.${s}`;
}
