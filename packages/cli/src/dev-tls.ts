import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createDevCa, issueLoopbackCertificate, LOOPBACK_NAMES, type PemPair } from '@tessera/core';

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface DevTls {
  /** The CA certificate file: what NODE_EXTRA_CA_CERTS points at. */
  caFile: string;
  cert: Buffer;
  key: Buffer;
  /** Whether this start created the CA. */
  created: boolean;
}

/** TESSERA_DEV_CA_DIR, else `$XDG_CACHE_HOME/tessera/dev-ca`, else `~/.cache/tessera/dev-ca`. */
export function devCaDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_DEV_CA_DIR) return env.TESSERA_DEV_CA_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera', 'dev-ca');
}

/**
 * The per-user development CA (created once in `dir`, then reused) and its loopback server certificate
 * (`localhost.pem`, key and chain), issued again when missing, not from this CA, or within 30 days of expiry.
 */
export async function loopbackTls(dir: string): Promise<DevTls> {
  const created = !existsSync(join(dir, 'ca.pem'));
  if (created) await createCaFolder(dir);
  const ca: PemPair = { certPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'ca-key.pem'), 'utf8') };
  const leafFile = join(dir, 'localhost.pem');
  let leaf = existsSync(leafFile) ? split(readFileSync(leafFile, 'utf8')) : undefined;
  if (leaf === undefined || !usable(leaf.certPem, ca.certPem)) {
    leaf = await issueLoopbackCertificate(ca);
    const tmp = `${leafFile}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, leaf.keyPem + leaf.certPem, { mode: 0o600 });
    renameSync(tmp, leafFile); // atomic: a concurrent start reads the old or the new file, never half of one
  }
  return { caFile: join(dir, 'ca.pem'), cert: Buffer.from(leaf.certPem), key: Buffer.from(leaf.keyPem), created };
}

const KEY_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/;

function split(file: string): PemPair | undefined {
  const key = KEY_BLOCK.exec(file)?.[0];
  return key === undefined ? undefined : { keyPem: key, certPem: file.replace(key, '') };
}

function usable(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return cert.verify(new X509Certificate(caPem).publicKey) && Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS
      && LOOPBACK_NAMES.every((n) => (n === 'localhost' ? cert.checkHost(n) : cert.checkIP(n)) !== undefined);
  } catch {
    return false;
  }
}

/** Written into a fresh sibling folder, then renamed into place: when two starts race, both use the one that won. */
async function createCaFolder(dir: string): Promise<void> {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  const ca = await createDevCa();
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    writeFileSync(join(tmp, 'ca.pem'), ca.certPem, { mode: 0o644 });
    writeFileSync(join(tmp, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    chmodSync(tmp, 0o700);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
}
