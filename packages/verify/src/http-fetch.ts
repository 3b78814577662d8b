import { get as httpGet, type Agent as HttpAgent } from 'node:http';
import { get as httpsGet, type Agent as HttpsAgent } from 'node:https';

export interface FetchOptions { agent?: HttpAgent | HttpsAgent; timeoutDuration: number }

/** GET a JSON document (discovery, JWKS) with the caller's agent and timeout; anything but 200 + JSON fails. */
export function fetchJson(url: URL, { agent, timeoutDuration }: FetchOptions): Promise<unknown> {
  const get = url.protocol === 'https:' ? httpsGet : url.protocol === 'http:' ? httpGet : undefined;
  if (!get) return Promise.reject(new Error(`Unsupported protocol for ${url.href}`));
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: agent as HttpsAgent, timeout: timeoutDuration, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`Failed to fetch ${url.href}, responded with ${res.statusCode}`));
        return;
      }
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(parts).toString('utf8'))); } catch { reject(new Error(`Failed to parse the response from ${url.href}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Timed out fetching ${url.href}`)));
    req.on('error', reject);
  });
}
