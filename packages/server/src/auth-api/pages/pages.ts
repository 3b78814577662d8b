import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { AuthorizationDetail } from '@tessera/core';
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
<label for="username">Email address or username</label>
<input type="text" inputmode="email" autocapitalize="none" spellcheck="false" id="username" name="username" autocomplete="username" required autofocus value="${v.email ?? ''}"${describedBy}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${describedBy}>
<button type="submit">Continue</button></form>`;
  return sendPage(reply, status, layout('Log in', body), csp([v.redirectUri]));
}

export interface ConsentView {
  state: string; csrf: string; clientName: string; apiName: string; userEmail: string; redirectUri: string;
  scopes: Array<{ value: string; description?: string }>;
  /** Transactional consent: approving needs a code from the authenticator app, typed here. */
  mfaCode?: boolean;
  error?: string;
  /** RFC 9396: the authorization details to approve, shown field by field. */
  details?: AuthorizationDetail[];
}

/** `instructedAmount` / `creditor_name` → "Instructed amount" / "Creditor name". */
function label(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}

/** A JSON value as nested definition and bullet lists; every string is escaped by the template tag. */
function valueHtml(v: unknown): Raw {
  if (v === null || v === undefined) return html`<em>none</em>`;
  if (Array.isArray(v)) return v.length === 0 ? html`<em>none</em>` : html`<ul>${v.map((x) => html`<li>${valueHtml(x)}</li>`)}</ul>`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length === 0 ? html`<em>none</em>` : html`<dl>${entries.map(([k, x]) => html`<dt>${label(k)}</dt><dd>${valueHtml(x)}</dd>`)}</dl>`;
  }
  return html`${String(v)}`;
}

function detailsHtml(details: AuthorizationDetail[] | undefined): Raw {
  if (!details || details.length === 0) return raw('');
  const items = details.map((d) => {
    const { type, ...fields } = d;
    const body = Object.keys(fields).length > 0 ? valueHtml(fields) : raw('');
    return html`<section class="detail"><h2><code>${type}</code></h2>${body}</section>`;
  });
  return html`<p>and asks you to authorize:</p><div aria-label="Authorization details">${items}</div>`;
}

export function consentPage(reply: FastifyReply, v: ConsentView, status = 200): FastifyReply {
  const items = v.scopes.map((s) => {
    const description = s.description ?? OIDC_DESCRIPTIONS[s.value];
    return description ? html`<li><code>${s.value}</code>: ${description}</li>` : html`<li><code>${s.value}</code></li>`;
  });
  const list = items.length > 0 ? html`<ul class="scopes" aria-label="Requested permissions">${items}</ul>` : html`<p>No specific permissions.</p>`;
  const body = html`<h1>Authorize ${v.clientName}</h1>
<p>Hi <strong>${v.userEmail}</strong>, <strong>${v.clientName}</strong> is requesting access to your <strong>${v.apiName}</strong> account:</p>${list}${detailsHtml(v.details)}
<form method="post" action="/u/consent">${hidden({ state: v.state, csrf: v.csrf })}${consentMfa(v)}
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="deny" class="secondary">Decline</button></form>`;
  return sendPage(reply, status, layout(`Authorize ${v.clientName}`, body), csp([v.redirectUri]));
}

/** The code field of a transactional consent (and why it is asked), with the error of a wrong code. */
function consentMfa(v: ConsentView): Raw {
  if (!v.mfaCode) return raw('');
  const error = v.error ? html`<p class="error" role="alert" id="consent-error">${v.error}</p>` : raw('');
  return html`${error}<p id="transaction-mfa">This authorization is for this transaction only. Confirm it with your authenticator app.</p>
<label for="code">6-digit code</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code">`;
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

export interface MfaView {
  state: string; csrf: string; clientName: string; email: string; redirectUri: string; error?: string;
  /** Enrollment: the QR code (an SVG data URL, rendered server-side) and the key to type in by hand. */
  enroll?: { qr: string; secret: string };
  /** Why a second factor is asked now (shown above the form). */
  reason?: string;
}

/** The second-factor page: enrollment (QR code and manual key, then a first code) or the challenge (code, or the recovery code). */
export function mfaPage(reply: FastifyReply, v: MfaView, status = 200): FastifyReply {
  const error = v.error ? html`<p class="error" role="alert" id="mfa-error">${v.error}</p>` : raw('');
  const reason = v.reason ? html`<p id="mfa-reason">${v.reason}</p>` : raw('');
  const codeField = html`<label for="code">Enter the 6-digit code from your authenticator app</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>`;
  let body: Raw;
  if (v.enroll) {
    const key = v.enroll.secret.replace(/(.{4})/g, '$1 ').trim();
    body = html`<h1>Secure your account</h1>${reason}<p>Scan this QR code with an authenticator app (for example Google Authenticator, Authy or 1Password) to add <strong>${v.email}</strong>.</p>${error}
<p><img id="totp-qr" src="${v.enroll.qr}" alt="QR code for your authenticator app" width="200" height="200"></p>
<p>Or enter this key manually: <code id="totp-secret">${key}</code></p>
<form method="post" action="/u/mfa" novalidate>${hidden({ state: v.state, csrf: v.csrf, action: 'otp' })}${codeField}
<button type="submit">Continue</button></form>`;
  } else {
    body = html`<h1>Verify your identity</h1>${reason}<p><strong>${v.email}</strong>, ${v.clientName} needs the code from your authenticator app.</p>${error}
<form method="post" action="/u/mfa" novalidate>${hidden({ state: v.state, csrf: v.csrf, action: 'otp' })}${codeField}
<button type="submit">Continue</button></form>
<form method="post" action="/u/mfa" novalidate>${hidden({ state: v.state, csrf: v.csrf, action: 'recovery' })}
<label for="recovery_code">Or use your recovery code</label>
<input type="text" id="recovery_code" name="recovery_code" autocomplete="off" maxlength="64">
<button type="submit" class="secondary">Use recovery code</button></form>`;
  }
  return sendPage(reply, status, layout(v.enroll ? 'Secure your account' : 'Verify your identity', body), csp([v.redirectUri]));
}

/** The new recovery code, shown once (after enrollment, or after the previous one was used). */
export function recoveryCodePage(reply: FastifyReply, v: { state: string; csrf: string; code: string; redirectUri: string }): FastifyReply {
  const body = html`<h1>Save your recovery code</h1>
<p>If you lose your device, this code lets you sign in once. Keep it somewhere safe: it is shown only now.</p>
<p><code id="recovery-code">${v.code}</code></p>
<form method="post" action="/u/mfa/continue">${hidden({ state: v.state, csrf: v.csrf })}
<button type="submit">I have saved it, continue</button></form>`;
  return sendPage(reply, 200, layout('Save your recovery code', body), csp([v.redirectUri]));
}

/** JSON that is safe inside a <script> element: no `<`, `>`, `&` or line separators that could end or confuse it. */
const scriptJson = (v: unknown): string => JSON.stringify(v)
  .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** Posts the response to the window that opened or framed this page, at exactly the application's origin. */
const WEB_MESSAGE_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('authorization-response').textContent);
  var target = window.opener || window.parent;
  target.postMessage({ type: 'authorization_response', response: data.response }, data.origin);
})();`;

/**
 * Auth0's `response_mode=web_message`: a page, run in the application's hidden iframe (silent authentication) or
 * popup, that hands the authorization response to its parent or opener with postMessage addressed to `origin` only
 * (the origin of the redirect_uri, which is in the client's web_origins). Only that origin may frame it
 * (frame-ancestors); the one script carries a fresh nonce, the data travels as inert JSON.
 */
export function webMessagePage(reply: FastifyReply, origin: string, params: Record<string, string>): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const body = html`<h1>Continuing…</h1><script type="application/json" id="authorization-response">${raw(scriptJson({ origin, response: params }))}</script>
<script nonce="${nonce}">${raw(WEB_MESSAGE_SCRIPT)}</script>`;
  const policy = csp([], `'nonce-${nonce}'`).replace("frame-ancestors 'none'", `frame-ancestors ${origin}`);
  return reply.code(200).type('text/html; charset=utf-8')
    .header('cache-control', 'no-store').header('pragma', 'no-cache')
    .header('content-security-policy', policy).header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
    .send(layout('Continuing…', body));
}

/** The page /v2/logout and /oidc/logout show when there is nowhere to send the browser. */
export function loggedOutPage(reply: FastifyReply): FastifyReply {
  return sendPage(reply, 200, layout('Logged out', html`<h1>You are logged out</h1><p>You can close this window.</p>`), csp([]));
}
