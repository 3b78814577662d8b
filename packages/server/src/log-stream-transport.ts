import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkSinkUrl, isPrivateAddress, type LogStreamPolicy, type SinkTransport } from '@tessera/core';

/**
 * Posts log-stream batches. The address policy is checked on the URL (literal addresses) and on every address a name
 * resolves to, at connection time (so a name cannot be re-pointed at an inside address after it was saved); redirects
 * are not followed; a sink gets 10 s.
 */
export function sinkTransport(policy: LogStreamPolicy, timeoutMs = 10_000): SinkTransport {
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return (callback as (e: Error) => void)(err);
      const list = addresses as LookupAddress[];
      if (!policy.allowPrivate && list.some((a) => isPrivateAddress(a.address))) {
        return (callback as (e: Error) => void)(new Error(`sink host ${hostname} resolves to an address that is not allowed`));
      }
      if ((options as { all?: boolean }).all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      return (callback as (e: null, a: string, f: number) => void)(null, list[0].address, list[0].family);
    });
  };
  return {
    post(url, headers, body) {
      const target = checkSinkUrl(url, policy);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise((resolve, reject) => {
        const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup, timeout: timeoutMs }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('sink timed out')));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}
