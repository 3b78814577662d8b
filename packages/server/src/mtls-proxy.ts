import { BlockList, isIP } from 'node:net';
import { ConfigError } from './config';

/** A TLS-terminating proxy that forwards the client certificate in a header, trusted only from its addresses. */
export interface MtlsProxy {
  /** Lower-case header name, e.g. `x-client-cert`. */
  header: string;
  trusted: BlockList;
}

/**
 * TESSERA_MTLS_PROXY_HEADER and TESSERA_MTLS_TRUSTED_PROXIES (comma-separated addresses or CIDR ranges), both or
 * neither.
 */
export function mtlsProxyFrom(env: Record<string, string | undefined>): MtlsProxy | undefined {
  const header = env.TESSERA_MTLS_PROXY_HEADER?.trim();
  const list = env.TESSERA_MTLS_TRUSTED_PROXIES?.trim();
  if (!header && !list) return undefined;
  if (!header) throw new ConfigError('TESSERA_MTLS_PROXY_HEADER', 'required when TESSERA_MTLS_TRUSTED_PROXIES is set');
  if (!list) throw new ConfigError('TESSERA_MTLS_TRUSTED_PROXIES', 'required when TESSERA_MTLS_PROXY_HEADER is set');
  if (!/^[A-Za-z0-9-]{1,64}$/.test(header)) throw new ConfigError('TESSERA_MTLS_PROXY_HEADER', `not a header name: "${header}"`);
  const trusted = new BlockList();
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [address, bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    if (family === 0 || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= (family === 4 ? 32 : 128)))) {
      throw new ConfigError('TESSERA_MTLS_TRUSTED_PROXIES', `expected addresses or CIDR ranges, got "${entry}"`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, prefix, type);
  }
  return { header: header.toLowerCase(), trusted };
}

/** Whether the connection's peer is a configured proxy (IPv4-mapped IPv6 addresses count as their IPv4 address). */
export function fromTrustedProxy(proxy: MtlsProxy, remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return proxy.trusted.check(mapped[1], 'ipv4');
  const family = isIP(remoteAddress);
  return family !== 0 && proxy.trusted.check(remoteAddress, family === 4 ? 'ipv4' : 'ipv6');
}
