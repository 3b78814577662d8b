import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { csp, html, layout, raw, sendPage, type Raw } from './html';

/** Descriptions shown on the consent page for the OIDC scopes. */
const OIDC_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in and know who you are',
  profile: 'Your name, nickname and picture',
  email: 'Your email address',
  address: 'Your address',
  phone: 'Your phone number',
  offline_access: 'Stay signed in while you are away (refresh tokens)',
};

const hidden = (fields: Record<string, string>): Raw[] =>
  Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);

export interface LoginView { state: string; csrf: string; clientName: string; email?: string; error?: string; redirectUri: string }

export function loginPage(reply: FastifyReply, v: LoginView, status = 200): FastifyReply {
  const error = v.error ? html`<p class="error" role="alert" id="login-error">${v.error}</p>` : raw('');
  const describedBy = v.error ? raw(' aria-describedby="login-error" aria-invalid="true"') : raw('');
  const body = html`<h1>Log in</h1><p>to continue to <strong>${v.clientName}</strong></p>${error}
<form method="post" action="/u/login" novalidate>${hidden({ state: v.state, csrf: v.csrf })}
<label for="username">Email address</label>
<input type="email" id="username" name="username" autocomplete="username" required autofocus value="${v.email ?? ''}"${describedBy}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${describedBy}>
<button type="submit">Continue</button></form>`;
  return sendPage(reply, status, layout('Log in', body), csp([v.redirectUri]));
}

export interface ConsentView {
  state: string; csrf: string; clientName: string; apiName: string; userEmail: string; redirectUri: string;
  scopes: Array<{ value: string; description?: string }>;
}

export function consentPage(reply: FastifyReply, v: ConsentView): FastifyReply {
  const items = v.scopes.map((s) => {
    const description = s.description ?? OIDC_DESCRIPTIONS[s.value];
    return description ? html`<li><code>${s.value}</code>: ${description}</li>` : html`<li><code>${s.value}</code></li>`;
  });
  const list = items.length > 0 ? html`<ul class="scopes" aria-label="Requested permissions">${items}</ul>` : html`<p>No specific permissions.</p>`;
  const body = html`<h1>Authorize ${v.clientName}</h1>
<p>Hi <strong>${v.userEmail}</strong>, <strong>${v.clientName}</strong> is requesting access to your <strong>${v.apiName}</strong> account:</p>${list}
<form method="post" action="/u/consent">${hidden({ state: v.state, csrf: v.csrf })}
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="deny" class="secondary">Decline</button></form>`;
  return sendPage(reply, 200, layout(`Authorize ${v.clientName}`, body), csp([v.redirectUri]));
}

export function errorPage(reply: FastifyReply, status: number, code: string, description: string): FastifyReply {
  const body = html`<h1>Something went wrong</h1><p class="error" role="alert"><strong>${code}</strong>: ${description}</p>`;
  return sendPage(reply, status, layout('Error', body), csp([]));
}

const AUTO_SUBMIT = 'document.forms[0].submit();';
const AUTO_SUBMIT_HASH = `'sha256-${createHash('sha256').update(AUTO_SUBMIT).digest('base64')}'`;

/** OAuth 2.0 Form Post Response Mode: an auto-submitting form, with a button when scripts are off. */
export function formPostPage(reply: FastifyReply, redirectUri: string, params: Record<string, string>): FastifyReply {
  const body = html`<h1>Continuing…</h1><form method="post" action="${redirectUri}">${hidden(params)}
<noscript><button type="submit">Continue</button></noscript></form><script>${raw(AUTO_SUBMIT)}</script>`;
  return sendPage(reply, 200, layout('Continuing…', body), csp([redirectUri], AUTO_SUBMIT_HASH));
}
