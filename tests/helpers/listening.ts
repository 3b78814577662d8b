import { freePort } from './process';
import { ADMIN_ID, ADMIN_SECRET, startTessera, type StartOptions, type TestServer } from './tessera';
import type { DialectName } from './databases';

export { freePort };

export interface ListeningServer {
  s: TestServer;
  port: number;
  /** Where the socket listens: http://127.0.0.1:<port>. */
  origin: string;
  /** The configured public URL (no trailing slash): `origin` unless `publicUrl` was given. */
  publicUrl: string;
  /** A Management API token for `${publicUrl}/api/v2/` (cached). */
  adminToken(): Promise<string>;
  /** Management API call with that token. */
  mgmt(method: string, path: string, body?: unknown): ReturnType<TestServer['api']>;
  close(): Promise<void>;
}

/**
 * Starts the real app on a real socket at 127.0.0.1. By default TESSERA_PUBLIC_URL is the listening
 * origin itself, so discovery, `iss` and JWKS URLs point at the socket; pass `publicUrl` to advertise
 * another origin (for clients that rewrite https://<domain> to the socket).
 */
export async function startListening(dialect: DialectName, o: StartOptions & { publicUrl?: string } = {}): Promise<ListeningServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const publicUrl = (o.publicUrl ?? origin).replace(/\/+$/, '');
    const s = await startTessera(dialect, { ...o, env: { ...o.env, TESSERA_PUBLIC_URL: publicUrl } });
    try {
      await s.t.app.listen({ host: '127.0.0.1', port });
    } catch (e) {
      await s.close();
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw e;
    }
    let admin: string | undefined;
    const adminToken = async () => {
      if (!admin) {
        const r = await s.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: `${publicUrl}/api/v2/` });
        if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
        admin = r.body.access_token as string;
      }
      return admin;
    };
    return {
      s, port, origin, publicUrl, adminToken,
      mgmt: async (method, path, body) => s.api(method, path, body, { token: await adminToken() }),
      close: () => s.close(),
    };
  }
}
