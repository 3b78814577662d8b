import type { Selectable } from 'kysely';
import type { KeyState, SecretBox, SigningKey, SigningKeyRepo } from '@tessera/core';
import type { Db, SigningKeyRow } from '../db';
import { mapConstraint } from './errors';

const aad = (kid: string) => `signing_key:${kid}`;

export class SqlSigningKeyRepo implements SigningKeyRepo {
  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  private toRow(k: SigningKey) {
    return {
      kid: k.kid, state: k.state, private_key: this.box.seal(k.privateKeyPkcs8, aad(k.kid)), public_jwk: JSON.stringify(k.publicJwk),
      cert: k.cert, fingerprint: k.fingerprint, thumbprint: k.thumbprint, created_at: k.createdAt,
      current_since: k.currentSince ?? null, current_until: k.currentUntil ?? null, revoked_at: k.revokedAt ?? null,
    };
  }

  private fromRow(r: Selectable<SigningKeyRow>): SigningKey {
    const k: SigningKey = {
      kid: r.kid, state: r.state as KeyState, privateKeyPkcs8: this.box.openString(r.private_key, aad(r.kid)),
      publicJwk: JSON.parse(r.public_jwk), cert: r.cert, fingerprint: r.fingerprint, thumbprint: r.thumbprint, createdAt: r.created_at,
    };
    if (r.current_since) k.currentSince = r.current_since;
    if (r.current_until) k.currentUntil = r.current_until;
    if (r.revoked_at) k.revokedAt = r.revoked_at;
    return k;
  }

  async list(): Promise<SigningKey[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('seq').execute();
    return rows.map((r) => this.fromRow(r));
  }

  async insert(k: SigningKey): Promise<void> {
    await mapConstraint(() => this.db.insertInto('signing_keys').values(this.toRow(k)).execute());
  }

  async replace(k: SigningKey): Promise<void> {
    const { kid, ...row } = this.toRow(k);
    await this.db.updateTable('signing_keys').set(row).where('kid', '=', kid).execute();
  }
}
