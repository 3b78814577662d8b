import { isIP } from 'node:net';
import { DeployError } from './types';

/** Where the tool deploys: any Auth0-compatible Management API (a Tessera server or an Auth0 tenant). */
export interface Target {
  domain: string;
  /** `https://{domain}` (or `http://` with --insecure-http on loopback). */
  origin: string;
  audience: string;
  /** Whether --audience or TESSERA_DEPLOY_AUDIENCE chose the audience (otherwise the discovery may correct it). */
  audienceGiven?: boolean;
  clientId: string;
  clientSecret: string;
}

export interface TargetOptions { domain?: string; clientId?: string; clientSecret?: string; audience?: string; insecureHttp?: boolean }

/** Flags win over TESSERA_DEPLOY_* variables; like Auth0's SDKs, the domain is a bare `host[:port]`. */
export function resolveTarget(o: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const raw = o.domain ?? env.TESSERA_DEPLOY_DOMAIN;
  const clientId = o.clientId ?? env.TESSERA_DEPLOY_CLIENT_ID;
  const clientSecret = o.clientSecret ?? env.TESSERA_DEPLOY_CLIENT_SECRET;
  const insecure = o.insecureHttp ?? ['1', 'true'].includes(env.TESSERA_DEPLOY_INSECURE_HTTP ?? '');
  const missing = [
    !raw && '--domain (or TESSERA_DEPLOY_DOMAIN)',
    !clientId && '--client-id (or TESSERA_DEPLOY_CLIENT_ID)',
    !clientSecret && '--client-secret (or TESSERA_DEPLOY_CLIENT_SECRET)',
  ].filter(Boolean);
  if (missing.length) throw new DeployError(`missing target settings: ${missing.join(', ')}`);
  const domain = parseDomain(raw!);
  const host = hostOf(domain);
  if (insecure && !isLoopback(host)) {
    throw new DeployError(`--insecure-http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost), not ${host}`);
  }
  const origin = `${insecure ? 'http' : 'https'}://${domain}`;
  const given = o.audience ?? env.TESSERA_DEPLOY_AUDIENCE;
  const audience = given ?? `${origin}/api/v2/`;
  return { domain, origin, audience, audienceGiven: given !== undefined, clientId: clientId!, clientSecret: clientSecret! };
}

/** What Auth0 and Tessera reserve under a server's origin (refused as API identifiers), and what each is. */
export const RESERVED_PATHS: Record<string, string> = {
  'api/v2/': 'the Management API audience', userinfo: 'the /userinfo endpoint', 'mfa/': 'the MFA API audience', 'me/': 'the My Account API audience',
};

/** The identifiers the target refuses: under its origin and under its issuer's (the audience may name another host). */
export function reservedIdentifiers(t: Target): string[] {
  const origins = new Set([t.origin]);
  if (URL.canParse(t.audience) && new URL(t.audience).origin !== 'null') origins.add(new URL(t.audience).origin);
  return [...origins].flatMap((o) => Object.keys(RESERVED_PATHS).map((p) => `${o}/${p}`));
}

/** Accepts `host`, `host:port` or `https://host[:port][/]` (as go-auth0 does); nothing else. */
function parseDomain(raw: string): string {
  const bare = raw.trim().replace(/^https:\/\//i, '').replace(/\/+$/, '');
  let url: URL;
  try { url = new URL(`https://${bare}`); } catch { throw new DeployError(`--domain: expected host[:port], got "${raw}"`); }
  if (/^[a-z]+:\/\//i.test(bare) || url.pathname !== '/' || url.search || url.hash || url.username || bare.includes('/')) {
    throw new DeployError(`--domain: expected host[:port] without scheme or path, got "${raw}"`);
  }
  return url.host;
}

function hostOf(domain: string): string {
  return new URL(`https://${domain}`).hostname.replace(/^\[|\]$/g, '');
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
