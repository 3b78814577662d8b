import { BadRequest } from '../errors';

const DANGEROUS = ['javascript:', 'data:', 'vbscript:'];
const NAMED: Record<string, string> = { colon: ':', tab: '\t', newline: '\n' };

/** Undoes HTML character references (`&#106;`, `&#x6a;`, `&colon;` …) an attribute value would go through. */
function decodeEntities(s: string): string {
  return s.replace(/&#(x[0-9a-f]+|\d+);?|&(colon|tab|newline);/gi, (m, num: string | undefined, name: string | undefined) => {
    if (name) return NAMED[name.toLowerCase()];
    const code = num!.startsWith('x') || num!.startsWith('X') ? parseInt(num!.slice(1), 16) : parseInt(num!, 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

function decodePercent(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/**
 * Whether a URL would run script or inline content when a browser is sent to it: `javascript:`, `data:`,
 * `vbscript:` in any case, hidden behind control characters or whitespace (which browsers strip), or behind
 * HTML-entity and percent encodings (applied repeatedly, as a careless consumer might decode them).
 */
export function hasDangerousScheme(url: string): boolean {
  let s = url;
  for (let i = 0; i < 4; i++) {
    const next = decodePercent(decodeEntities(s));
    if (next === s) break;
    s = next;
  }
  // eslint-disable-next-line no-control-regex
  const compact = s.replace(/[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/g, '').toLowerCase();
  return DANGEROUS.some((scheme) => compact.startsWith(scheme));
}

/** Client fields holding URLs a browser is sent to or trusts, with the validation format named in errors. */
const URL_FIELDS = {
  callbacks: 'callback-url', allowed_logout_urls: 'callback-url', web_origins: 'web-origin', allowed_origins: 'web-origin',
  initiate_login_uri: 'absolute-uri-or-empty',
} as const;

/** Each URL field value of a client body that uses a script-capable scheme, with Auth0's z-schema wording. */
export function clientUrlProblems(body: Record<string, unknown>): Array<{ property: string; message: string }> {
  const out: Array<{ property: string; message: string }> = [];
  for (const [field, format] of Object.entries(URL_FIELDS)) {
    const value = body[field];
    const items = Array.isArray(value) ? value.map((v, i) => [v, `${field}[${i}]`] as const) : [[value, field] as const];
    for (const [v, property] of items) {
      if (typeof v === 'string' && hasDangerousScheme(v)) out.push({ property, message: `Object didn't pass validation for format ${format}: ${v}` });
    }
  }
  return out;
}

/** Refuses (400) a client body whose URL fields use a script-capable scheme. */
export function checkClientUrls(body: Record<string, unknown>): void {
  const [first] = clientUrlProblems(body);
  if (first) throw new BadRequest(`Payload validation error: '${first.message}' on property ${first.property}.`);
}
