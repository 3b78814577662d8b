import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { ApiError, MANAGEMENT_SCOPES } from '@tessera/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { field } from '../auth-api/browser';
import { csp, html, layout, raw, sendPage } from '../auth-api/pages/html';
import type { Services } from '../services';
import { redeemTicket, TicketRefused, ticketPurpose } from './setup';

/**
 * The dashboard's single-page app: static files built from packages/dashboard (committed build output) served under
 * /dashboard with a strict CSP (scripts, styles and connections to this origin only, nothing inline), the SPA's
 * public configuration (its client id, the issuer, the Management API audience and scopes), and the one-time
 * setup page that sets an administrator's password.
 */
const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  // /oauth/token and /api/v2 on this origin; the sign-in library's silent authentication frames /authorize here
  "connect-src 'self'", "frame-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

interface Asset { body: Buffer; type: string; etag: string }

/** The built files (a few hundred kilobytes), read once, on the first dashboard request. Undefined when the package was not built. */
function loadAssets(): Map<string, Asset> | undefined {
  let root: string;
  try {
    root = join(dirname(createRequire(import.meta.url).resolve('@tessera/dashboard/package.json')), 'dist');
  } catch { return undefined; }
  if (!existsSync(join(root, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) { walk(path); continue; }
      const body = readFileSync(path);
      assets.set(relative(root, path).split(sep).join('/'), {
        body, type: TYPES[extname(name)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      });
    }
  };
  walk(root);
  return assets;
}

export async function dashboardRoutes(app: FastifyInstance, { services, publicUrl, dashboardClientId }: { services: Services; publicUrl: string; dashboardClientId?: string }): Promise<void> {
  let loaded: { assets: Map<string, Asset> | undefined } | undefined;
  const asset = (path: string) => (loaded ??= { assets: loadAssets() }).assets?.get(path);
  const urls = { publicUrl, managementAudience: `${publicUrl}/api/v2/` };
  const hide = { schema: { hide: true } };
  const config = JSON.stringify({
    issuer: `${publicUrl}/`, domain: publicUrl, clientId: dashboardClientId ?? null, audience: urls.managementAudience,
    scope: MANAGEMENT_SCOPES.map((s) => s.value).join(' '),
  });

  const send = (reply: FastifyReply, asset: Asset, cache: string) => reply.code(200).type(asset.type)
    .header('cache-control', cache).header('etag', asset.etag).header('content-security-policy', DASHBOARD_CSP)
    .header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer')
    .send(asset.body);
  const index = (reply: FastifyReply) => {
    const page = asset('index.html');
    if (!page) return sendPage(reply, 503, layout('Dashboard', html`<h1>Dashboard not built</h1><p>Run <code>npm run build -w @tessera/dashboard</code>.</p>`), csp([]));
    return send(reply, page, 'no-cache');
  };

  app.get('/', hide, async (_req, reply) => reply.redirect('/dashboard/'));
  // the router may ignore trailing slashes: /dashboard redirects, /dashboard/ is the app
  app.get('/dashboard', hide, async (req, reply) => (req.url.split('?')[0] === '/dashboard' ? reply.redirect('/dashboard/') : index(reply)));
  app.get('/dashboard/config.json', hide, async (_req, reply) => reply.type('application/json').header('cache-control', 'no-cache').send(config));
  app.get('/dashboard/assets/*', hide, async (req, reply) => {
    const file = asset(`assets/${(req.params as { '*': string })['*']}`);
    if (!file) return reply.code(404).type('text/plain').send('Not found');
    // built file names carry a content hash
    return send(reply, file, 'public, max-age=31536000, immutable');
  });
  app.get('/dashboard/*', hide, async (_req, reply) => index(reply));

  // the one-time link: sign up the first administrator, or set an administrator's password
  app.get('/dashboard/setup', hide, async (req, reply) => {
    const ticket = (req.query as Record<string, unknown>).ticket;
    try {
      const purpose = await ticketPurpose(services, typeof ticket === 'string' ? ticket : undefined);
      return setupPage(reply, 200, { ticket: ticket as string, fixedEmail: purpose.email, usernameRequired: purpose.usernameRequired });
    } catch (e) {
      if (e instanceof TicketRefused) return setupPage(reply, 400, { refused: e.message });
      throw e;
    }
  });
  app.post('/dashboard/setup', hide, async (req, reply) => {
    const ticket = field(req.body, 'ticket');
    const password = field(req.body, 'password') ?? '';
    let purpose: { email?: string; usernameRequired?: boolean };
    try { purpose = await ticketPurpose(services, ticket); } catch (e) {
      if (e instanceof TicketRefused) return setupPage(reply, 400, { refused: e.message });
      throw e;
    }
    const email = purpose.email ?? field(req.body, 'email');
    // a username is asked for (and read) only when the first administrator signs up on a connection that requires one
    const username = purpose.usernameRequired ? field(req.body, 'username') || undefined : undefined;
    const view = { ticket, ...(purpose.email ? { fixedEmail: purpose.email } : { email, username, usernameRequired: purpose.usernameRequired }) };
    if (password !== (field(req.body, 'confirm') ?? '')) return setupPage(reply, 400, { ...view, error: 'The passwords do not match.' });
    try {
      await redeemTicket(services, urls, ticket, { email: purpose.email ? undefined : email, username, password });
    } catch (e) {
      if (e instanceof TicketRefused) return setupPage(reply, 400, { refused: e.message });
      if (e instanceof ApiError && e.status < 500) return setupPage(reply, e.status, { ...view, error: e.message });
      throw e;
    }
    return setupPage(reply, 200, { done: email });
  });
}

interface SetupView { ticket?: string; email?: string; username?: string; usernameRequired?: boolean; fixedEmail?: string; error?: string; refused?: string; done?: string }

function setupPage(reply: FastifyReply, status: number, v: SetupView): FastifyReply {
  let body;
  if (v.refused) body = html`<h1>Set up Tessera</h1><p class="error" role="alert">${v.refused}</p>`;
  else if (v.done) body = html`<h1>Password set</h1><p>You can now sign in to the dashboard as <strong>${v.done}</strong>.</p><p><a href="/dashboard/">Open the dashboard</a></p>`;
  else {
    const error = v.error ? html`<p class="error" role="alert" id="setup-error">${v.error}</p>` : raw('');
    const invalid = v.error ? raw(' aria-describedby="setup-error" aria-invalid="true"') : raw('');
    const emailField = v.fixedEmail !== undefined
      ? html`<p>Choose a password for <strong>${v.fixedEmail}</strong>.</p>`
      : v.usernameRequired
        ? html`<label for="email">Email address</label><input type="email" id="email" name="email" autocomplete="email" required value="${v.email ?? ''}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${v.username ?? ''}">
<p>The database connection requires a username: you can sign in with it or with the email address.</p>`
        : html`<label for="email">Email address</label><input type="email" id="email" name="email" autocomplete="username" required value="${v.email ?? ''}">`;
    body = html`<h1>Set up Tessera</h1><p>${v.fixedEmail !== undefined ? 'Set your dashboard password.' : 'Create the first administrator of the dashboard.'}</p>${error}
<form method="post" action="/dashboard/setup" novalidate><input type="hidden" name="ticket" value="${v.ticket ?? ''}">
${emailField}<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="new-password" required${invalid}>
<label for="confirm">Confirm password</label>
<input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
<p>At least 8 characters, with three of: lower case, upper case, digits, symbols.</p>
<button type="submit">Save password</button></form>`;
  }
  return sendPage(reply, status, layout('Set up Tessera', body), csp([]));
}
