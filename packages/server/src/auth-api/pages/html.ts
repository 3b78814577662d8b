import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A template literal tag whose interpolations are escaped unless wrapped in `raw()`. */
export interface Raw { readonly html: string }
export const raw = (html: string): Raw => ({ html });
export function html(strings: TemplateStringsArray, ...values: Array<string | number | Raw | Raw[] | undefined>): Raw {
  let out = strings[0];
  values.forEach((v, i) => {
    const part = v === undefined ? '' : Array.isArray(v) ? v.map((r) => r.html).join('') : typeof v === 'object' ? v.html : esc(String(v));
    out += part + strings[i + 1];
  });
  return raw(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #8a9099;border-radius:4px;font-size:1rem}
button{margin-top:1.4rem;padding:.7rem 1.2rem;font-size:1rem;border-radius:4px;border:1px solid #1b4fd8;background:#1b4fd8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1b4fd8;margin-left:.5rem}button:focus,input:focus{outline:3px solid #ffbf47}
.error{color:#a4000f;background:#fde8ea;padding:.6rem;border-radius:4px}ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.4rem 0}
code{background:#eef0f3;padding:0 .25rem;border-radius:3px}
section.detail{border:1px solid #d5d9de;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}section.detail h2{font-size:1rem;margin:0 0 .4rem}
dl{margin:0}dt{font-weight:600;margin-top:.3rem}dd{margin:0 0 0 1rem;overflow-wrap:anywhere}`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** Content-Security-Policy for a page: no external assets, inline style by hash, forms only to the listed origins. */
export function csp(formTargets: string[], scriptHash?: string): string {
  const form = ["'self'", ...new Set(formTargets.map(originOf).filter((o): o is string => o !== undefined))].join(' ');
  return [
    "default-src 'none'", `style-src ${STYLE_HASH}`, `script-src ${scriptHash ?? "'none'"}`, "img-src 'self' data:",
    `form-action ${form}`, "frame-ancestors 'none'", "base-uri 'none'",
  ].join('; ');
}

function originOf(uri: string): string | undefined {
  try { const u = new URL(uri); return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined; } catch { return undefined; }
}

export function layout(title: string, body: Raw, head: Raw = raw('')): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title><style>${STYLE}</style>${head.html}</head>
<body><main>${body.html}</main></body></html>`;
}

/** Sends an HTML page that must never be cached, framed or leak its URL (it carries the transaction handle). */
export function sendPage(reply: FastifyReply, status: number, page: string, policy: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8')
    .header('cache-control', 'no-store').header('pragma', 'no-cache')
    .header('content-security-policy', policy).header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
    .send(page);
}
